"""Reports of big, real-looking cases (spec §19, §27.1): hundreds of alerts, long values, event times."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from aurorasoc.cases.service import CaseService
from aurorasoc.core.models import AlertModel
from aurorasoc.reports import pdf as report_pdf
from aurorasoc.reports.service import ReportService

HOST = "MSEDGEWIN10"
EVENT_TIME = datetime(2019, 8, 30, 12, 54, 8, tzinfo=UTC)
# A real SigmaHQ-style long value: an encoded PowerShell command line with no spaces to break at.
CHUNK = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
LONG = "powershell.exe -enc " + CHUNK * 60
ALERTS = 200


@pytest.fixture
async def big_case(db_session):
    alerts = [
        AlertModel(
            title=f"Suspicious Encoded PowerShell {i} " + LONG[:400],
            description="Matched fields:\nCommandLine: " + LONG,
            severity="high",
            source="windows",
            iocs=[],
            mitre_techniques=["T1059.001", "T1027"],
            affected_assets=[f"host:{HOST}", "user:MSEDGEWIN10\\IEUser"],
            host=HOST,
            user_name="MSEDGEWIN10\\IEUser",
            process_executable="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            process_command_line=LONG,
            first_seen_at=EVENT_TIME + timedelta(seconds=i),
            last_seen_at=EVENT_TIME + timedelta(seconds=i),
        )
        for i in range(ALERTS)
    ]
    db_session.add_all(alerts)
    await db_session.flush()
    service = CaseService(db_session)
    created = await service.create(
        title="Encoded PowerShell on MSEDGEWIN10",
        severity="high",
        actor="alice",
        description=LONG,
        alert_ids=[a.id for a in alerts],
    )
    # A timeline comment holding the whole command line: a table cell taller than a page.
    await service.add_comment(created, "Decoded from " + LONG, "alice")
    return created


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# Rendering is fpdf2's pure-Python line breaking (~8 CPU-s per report); coverage's tracer, which fires
# on every line of it without measuring any, made that ~21. The call runs unmeasured (pytest-cov's
# no_cover): render_pdf's lines are measured by the smaller reports of test_reports.py.
@pytest.mark.slow
@pytest.mark.no_cover
@pytest.mark.parametrize("report_type", ["technical", "executive"])
async def test_pdf_of_a_case_with_hundreds_of_alerts_and_long_values(db_session, big_case, report_type):
    report = await ReportService(db_session).generate(big_case.id, report_type, "alice")
    data = report_pdf.render_pdf(report.content_md, title=big_case.title)
    text = pdf_text(data)
    assert PdfReader(io.BytesIO(data)).metadata.title == big_case.title
    assert "Encoded PowerShell on MSEDGEWIN10" in text and HOST in text
    # Timestamps are event times (2019), not the moment the report or alerts were stored.
    assert "2019-08-30" in report.content_md and "2019-08-30" in text


async def test_markdown_and_html_show_event_time_span_and_summary(db_session, big_case):
    report = await ReportService(db_session).generate(big_case.id, "technical", "alice")
    for content in (report.content_md, report.content_html):
        assert "200 alert(s) from 2019-08-30 12:54 to 2019-08-30 12:57 UTC (event time)" in content
        assert "execution → defense-evasion" in content
    # The timeline says when each linked alert's events happened, beside when it was linked.
    linked = [line for line in report.content_md.splitlines() if "alert\\_linked" in line]
    assert len(linked) == ALERTS and all("| 2019-08-30T12:5" in line for line in linked)
    assert "<th>Event time (UTC)</th>" in report.content_html
