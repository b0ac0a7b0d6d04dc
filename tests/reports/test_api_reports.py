"""Tests for the /api/v1/reports routes: generate, preview, list, read, download, modes."""

from __future__ import annotations

import io
import uuid

from pypdf import PdfReader
from sqlalchemy import func, select

from aurorasoc.core import runtime
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import ReportModel
from aurorasoc.core.vocabulary import RuntimeMode

URL = "/api/v1/reports"
TITLE = "Überprüfung \u2013 Emotet"
IOCS = [
    "2001:db8::1",
    "http://evil.example.com/path/to/payload.php",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "c2.example.net",
]


async def _case(client, headers) -> str:
    alert = {
        "title": "Emotet <script>alert(1)</script> beacon",
        "source": "suricata",
        "severity": "high",
        "iocs": IOCS,
        "mitre_techniques": ["T1059.001"],
        "affected_assets": ["host:web-01", "user:alice"],
    }
    created = await client.post("/api/v1/alerts", json=alert, headers=headers)
    assert created.status_code == 201, created.text
    body = {"title": TITLE, "severity": "high", "alert_ids": [created.json()["id"]]}
    case = await client.post("/api/v1/cases", json=body, headers=headers)
    assert case.status_code == 201, case.text
    return case.json()["id"]


async def _generate(client, headers, case_id, report_type="technical", **params):
    body = {"case_id": case_id, "report_type": report_type}
    return await client.post(f"{URL}/generate", json=body, params=params, headers=headers)


async def _count() -> int:
    async with session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(ReportModel)) or 0)


class TestGenerate:
    async def test_pdf_contains_title_and_every_ioc(self, client, role_headers):
        h = role_headers["analyst"]
        report = (await _generate(client, h, await _case(client, h))).json()
        resp = await client.get(f"{URL}/{report['id']}/download", params={"format": "pdf"}, headers=h)
        assert resp.headers["content-type"] == "application/pdf"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.content)).pages)
        assert TITLE in text
        assert [ioc for ioc in IOCS if ioc not in text] == []

    async def test_md_and_html_downloads_are_the_stored_content(self, client, role_headers):
        h = role_headers["analyst"]
        report = (await _generate(client, h, await _case(client, h))).json()
        for fmt, media in (("md", "text/markdown"), ("html", "text/html")):
            resp = await client.get(f"{URL}/{report['id']}/download", params={"format": fmt}, headers=h)
            assert resp.headers["content-type"].startswith(media)
            disposition = resp.headers["content-disposition"]
            assert disposition.startswith('attachment; filename="technical-report-')
            assert disposition.endswith(f'.{fmt}"') and disposition.isascii()
            assert resp.text == report[f"content_{fmt}"]
        assert "&lt;script&gt;" in report["content_html"] and "<script>" not in report["content_html"]

    async def test_bad_type_is_422_listing_allowed_values(self, client, admin_headers):
        resp = await _generate(client, admin_headers, str(uuid.uuid4()), "forensic")
        assert resp.status_code == 422
        assert all(t in resp.text for t in ("technical", "executive", "compliance"))

    async def test_unknown_case_is_404(self, client, admin_headers):
        resp = await _generate(client, admin_headers, str(uuid.uuid4()))
        assert resp.status_code == 404 and resp.json()["detail"]["code"] == "not_found"


class TestImmutability:
    async def test_regenerating_adds_a_row_and_there_is_no_edit_route(self, client, role_headers):
        h = role_headers["analyst"]
        case_id = await _case(client, h)
        first = (await _generate(client, h, case_id)).json()
        await client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "contained"}, headers=h)
        second = (await _generate(client, h, case_id)).json()
        assert first["id"] != second["id"] and "contained" in second["content_md"]
        assert "contained" not in (await client.get(f"{URL}/{first['id']}", headers=h)).json()["content_md"]
        for method in ("PATCH", "PUT", "DELETE"):
            resp = await client.request(method, f"{URL}/{first['id']}", json={}, headers=h)
            assert resp.status_code == 405
        page = (await client.get(URL, params={"case_id": case_id}, headers=h)).json()
        assert page["total"] == 2 and [r["id"] for r in page["items"]] == [second["id"], first["id"]]
        detail = (await client.get(f"/api/v1/cases/{case_id}", headers=h)).json()
        assert {r["id"] for r in detail["reports"]} == {first["id"], second["id"]}

    async def test_list_filters_by_type(self, client, role_headers):
        h = role_headers["analyst"]
        case_id = await _case(client, h)
        for report_type in ("technical", "executive", "compliance"):
            assert (await _generate(client, h, case_id, report_type)).status_code == 201
        page = (await client.get(URL, params={"report_type": "executive"}, headers=h)).json()
        assert page["total"] == 1 and page["items"][0]["report_type"] == "executive"
        assert page["data_source"] == "database"


class TestModes:
    async def test_dry_run_preview_renders_without_storing(self, client, role_headers):
        h = role_headers["analyst"]
        case_id = await _case(client, h)
        runtime.set_mode(RuntimeMode.DRY_RUN)
        blocked = await _generate(client, h, case_id)
        assert blocked.status_code == 409 and blocked.json()["detail"]["code"] == "mode_blocks_mutation"
        preview = await _generate(client, h, case_id, preview="true")
        assert preview.status_code == 200
        body = preview.json()
        assert body["preview"] is True and body["mode"] == "dry_run"
        assert TITLE in body["report"]["content_md"]
        assert await _count() == 0

    async def test_viewer_reads_but_cannot_generate(self, client, role_headers):
        case_id = await _case(client, role_headers["analyst"])
        denied = await _generate(client, role_headers["viewer"], case_id)
        assert denied.status_code == 403
        assert (await client.get(URL, headers=role_headers["viewer"])).status_code == 200
