"""Tests for the report service: snapshot content, Markdown/HTML rendering and PDF fonts."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from aurorasoc.cases.service import CaseService
from aurorasoc.core.models import AlertModel, HumanApprovalModel
from aurorasoc.core.types import utcnow
from aurorasoc.intel.service import index_alert_iocs
from aurorasoc.reports import pdf as report_pdf
from aurorasoc.reports.service import ReportService, md_code, md_text

TITLE = "Überprüfung \u2013 Emotet"
IOCS = ["2001:db8::1", "http://evil.example.com/a_b/c.php", "c2.example.net"]


@pytest.fixture
async def case(db_session):
    alert = AlertModel(
        title="Beacon <b>bold</b> | pipe",
        severity="high",
        source="suricata",
        iocs=IOCS,
        mitre_techniques=["T1059.001", "T9999"],
        affected_assets=["host:web-01", "HOST:web-01", "user:alice"],
    )
    db_session.add(alert)
    await db_session.flush()
    await index_alert_iocs(db_session, [alert])
    service = CaseService(db_session)
    created = await service.create(title=TITLE, severity="high", actor="alice", alert_ids=[alert.id])
    await service.add_comment(created, "Isolated web-01 from the network", "alice")
    return created


class TestSnapshot:
    async def test_collects_typed_iocs_techniques_assets_and_timeline(self, db_session, case):
        report = await ReportService(db_session).generate(case.id, "technical", "alice")
        snap = report.snapshot
        assert {(i["type"], i["value"]) for i in snap["iocs"]} == {
            ("ip", "2001:db8::1"),
            ("url", "http://evil.example.com/a_b/c.php"),
            ("domain", "c2.example.net"),
        }
        assert all(i["tlp"] == "amber" for i in snap["iocs"])  # enriched from the iocs table
        by_id = {t["id"]: t for t in snap["techniques"]}
        assert by_id["T1059.001"]["name"] == "PowerShell" and "execution" in by_id["T1059.001"]["tactics"]
        assert by_id["T9999"] == {"id": "T9999", "name": None, "tactics": []}
        assert snap["assets"] == [{"kind": "host", "name": "web-01"}, {"kind": "user", "name": "alice"}]
        assert [e["action"] for e in snap["timeline"]] == ["case_created", "alert_linked", "comment"]
        assert report.narrative_source == "template" and snap["meta"]["generated_by"] == "alice"

    async def test_approvals_appear_in_the_actions_section(self, db_session, case):
        approval = HumanApprovalModel(
            case_id=case.id, action_type="isolate_host", target="web-01", requested_by="agent",
            ttl_seconds=600, expires_at=utcnow(), status="approved", decided_by="bob", decided_at=utcnow(),
        )  # fmt: skip
        db_session.add(approval)
        await db_session.flush()
        report = await ReportService(db_session).generate(case.id, "compliance", "alice")
        assert "isolate\\_host on web-01: approved" in report.content_md
        assert "decided by bob" in report.content_md
        assert "<td>isolate_host (risk low)</td>" in report.content_html


class TestRendering:
    @pytest.mark.parametrize("report_type", ["technical", "executive", "compliance"])
    async def test_every_type_has_control_block_timeline_techniques_and_iocs(
        self, db_session, case, report_type
    ):
        report = await ReportService(db_session).generate(case.id, report_type, "alice")
        for content in (report.content_md, report.content_html):
            assert "1. Document control" in content and report.snapshot["meta"]["report_id"] in content
            assert "Isolated web-01 from the network" in content
            assert "T1059.001" in content and "PowerShell" in content
            assert all(ioc in content for ioc in IOCS)

    async def test_html_escapes_and_markdown_keeps_text_literal(self, db_session, case):
        report = await ReportService(db_session).generate(case.id, "technical", "alice")
        assert "Beacon &lt;b&gt;bold&lt;/b&gt; | pipe" in report.content_html
        assert "<b>" not in report.content_html
        assert "Beacon \\<b\\>bold\\</b\\> \\| pipe" in report.content_md

    def test_md_filters(self):
        assert md_text("a_b *c* [x](y)") == "a\\_b \\*c\\* \\[x\\](y)"
        assert md_text(None) == "—"
        assert md_code("a|b") == "`a\\|b`"
        assert md_code("x`y") == "``x`y``"


class TestPdf:
    async def _markdown(self, db_session, case) -> str:
        return (await ReportService(db_session).generate(case.id, "technical", "alice")).content_md

    @staticmethod
    def _text(pdf: bytes) -> str:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    async def test_unicode_font_keeps_title_exact(self, db_session, case):
        font = report_pdf.find_unicode_font()
        if font is None:
            pytest.skip("no DejaVu font installed (fonts-dejavu-core)")
        text = self._text(report_pdf.render_pdf(await self._markdown(db_session, case), title=TITLE))
        assert TITLE in text and all(ioc in text for ioc in IOCS)

    async def test_core_font_fallback_folds_to_latin1_deterministically(self, db_session, case, monkeypatch):
        monkeypatch.setattr(report_pdf, "find_unicode_font", lambda: None)
        markdown = await self._markdown(db_session, case)
        text = self._text(report_pdf.render_pdf(markdown, title=TITLE))
        assert "Überprüfung - Emotet" in text and all(ioc in text for ioc in IOCS)

    def test_to_latin1(self):
        folded = report_pdf.to_latin1("Überprüfung \u2013 Emotet \u201cx\u201d …")
        assert folded == 'Überprüfung - Emotet "x" ...'
        assert report_pdf.to_latin1("Łódź 攻撃") == "[U+0141]ódz [U+653B][U+6483]"  # Ł has no decomposition
