"""Case evidence upload/download (spec §10, issue #18 finding 7): limits, path safety, RBAC, audit."""

from __future__ import annotations

import hashlib
import stat
import uuid

import pytest
from sqlalchemy import select

from aurorasoc.cases import files as case_evidence
from aurorasoc.cases.service import CaseService
from aurorasoc.core.db import session_scope
from aurorasoc.core.models import AuditLogModel, TimelineEntryModel

EVTX_HEADER = b"ElfFile\x00" + bytes(range(256)) * 8


@pytest.fixture
async def case_id(role_headers) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with session_scope() as session:
        case = await CaseService(session).create(title="Evidence test", severity="high", actor="analyst")
        return case.id


def _url(case_id: uuid.UUID, suffix: str = "") -> str:
    return f"/api/v1/cases/{case_id}/evidence{suffix}"


async def _upload(
    client, headers, case_id, name="host.evtx", data=EVTX_HEADER, ctype="application/octet-stream"
):  # type: ignore[no-untyped-def]
    return await client.post(
        _url(case_id), headers=headers, files={"file": (name, data, ctype)}, data={"kind": "log"}
    )


async def test_upload_list_download_round_trip_is_hashed_and_audited(client, role_headers, case_id, settings):
    resp = await _upload(client, role_headers["analyst"], case_id)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["sha256"] == hashlib.sha256(EVTX_HEADER).hexdigest() and body["size"] == len(EVTX_HEADER)
    assert (body["filename"], body["kind"], body["added_by"]) == ("host.evtx", "log", "analyst")
    listed = (await client.get(_url(case_id), headers=role_headers["viewer"])).json()
    assert [e["id"] for e in listed] == [body["id"]]

    download = await client.get(_url(case_id, f"/{body['id']}"), headers=role_headers["viewer"])
    assert download.status_code == 200 and download.content == EVTX_HEADER
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-evidence-sha256"] == body["sha256"]
    stored = next((settings.data_dir / "evidence" / str(case_id)).iterdir())
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    async with session_scope() as session:
        actions = (await session.execute(select(AuditLogModel.action))).scalars().all()
        timeline = (await session.execute(select(TimelineEntryModel.action))).scalars().all()
    assert {"case.evidence_add", "case.evidence_download"} <= set(actions)
    assert "evidence_added" in timeline


async def test_traversal_filename_is_only_a_label(client, role_headers, case_id, settings):
    resp = await _upload(client, role_headers["analyst"], case_id, name="../../secrets/jwt_secret")
    assert resp.status_code == 201
    assert resp.json()["filename"] == "jwt_secret"
    files = list((settings.data_dir / "evidence" / str(case_id)).iterdir())
    assert [f.name for f in files] == [uuid.UUID(resp.json()["id"]).hex]
    assert not (settings.data_dir / "secrets" / "jwt_secret").exists()


async def test_size_limit_413_leaves_nothing_behind(client, role_headers, case_id, settings, monkeypatch):
    monkeypatch.setattr(case_evidence, "MAX_EVIDENCE_BYTES", 1024)
    resp = await _upload(client, role_headers["analyst"], case_id, data=b"x" * 1025)
    assert resp.status_code == 413 and resp.json()["detail"]["code"] == "evidence_too_large"
    assert list((settings.data_dir / "evidence" / str(case_id)).iterdir()) == []
    assert (await client.get(_url(case_id), headers=role_headers["analyst"])).json() == []


@pytest.mark.parametrize("ctype", ["text/html", "image/svg+xml", "application/javascript"])
async def test_active_content_types_are_refused(client, role_headers, case_id, ctype):
    resp = await _upload(
        client, role_headers["analyst"], case_id, name="x.html", data=b"<script>1</script>", ctype=ctype
    )
    assert resp.status_code == 415 and resp.json()["detail"]["code"] == "evidence_type_refused"


async def test_empty_file_and_unknown_kind_are_400(client, role_headers, case_id):
    assert (await _upload(client, role_headers["analyst"], case_id, data=b"")).status_code == 400
    resp = await client.post(
        _url(case_id),
        headers=role_headers["analyst"],
        files={"file": ("a.txt", b"a", "text/plain")},
        data={"kind": "x"},
    )
    assert resp.status_code == 422


async def test_permissions_viewer_cannot_upload_and_anonymous_cannot_read(client, role_headers, case_id):
    assert (await _upload(client, role_headers["viewer"], case_id)).status_code == 403
    uploaded = (await _upload(client, role_headers["analyst"], case_id)).json()
    assert (await client.get(_url(case_id, f"/{uploaded['id']}"))).status_code == 401
    assert (await client.get(_url(case_id))).status_code == 401


async def test_evidence_of_another_case_is_404(client, role_headers, case_id):
    uploaded = (await _upload(client, role_headers["analyst"], case_id)).json()
    async with session_scope() as session:
        other = await CaseService(session).create(title="Other", severity="low", actor="analyst")
    resp = await client.get(_url(other.id, f"/{uploaded['id']}"), headers=role_headers["analyst"])
    assert resp.status_code == 404
    assert (await _upload(client, role_headers["analyst"], uuid.uuid4())).status_code == 404


async def test_evidence_files_and_the_evidence_summary_are_two_routes(client, role_headers, case_id):
    """Both capabilities once claimed GET /cases/{id}/evidence; the console's case page needs both."""
    headers = role_headers["analyst"]
    files = await client.get(_url(case_id), headers=headers)
    summary = await client.get(f"/api/v1/cases/{case_id}/evidence-summary", headers=headers)
    assert files.status_code == 200 and files.json() == []
    assert summary.status_code == 200
    assert summary.json()["case_id"] == str(case_id) and {"tactic_chain", "summary"} <= summary.json().keys()
