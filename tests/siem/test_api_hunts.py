"""Tests for /api/v1/siem/hunts: sharing, owner-only edits, validation and run-now counters."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from conftest import TEST_START

from aurorasoc.core.db import session_scope
from aurorasoc.core.errors import NotFound
from aurorasoc.core.models import SiemHuntModel, SiemLogModel
from aurorasoc.siem.hunts import HuntService, Viewer

URL = "/api/v1/siem/hunts"
NOW = TEST_START  # replaced by the running test's start time (tests/conftest.py)


async def _hunt(client, headers, **overrides):
    body = {"name": "Encoded PowerShell", "query": "powershell AND *-enc*", **overrides}
    resp = await client.post(URL, json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _names(client, headers) -> set[str]:
    resp = await client.get(URL, headers=headers)
    assert resp.status_code == 200
    return {h["name"] for h in resp.json()["items"]}


class TestSharing:
    async def test_visibility_by_mode(self, client, role_headers):
        analyst, admin = role_headers["analyst"], role_headers["admin"]
        await _hunt(client, analyst, name="mine")
        await _hunt(client, analyst, name="team", sharing_mode="team")
        await _hunt(client, analyst, name="for-admins", sharing_mode="roles", shared_with_roles=["admin"])
        assert await _names(client, analyst) == {"mine", "team", "for-admins"}
        assert await _names(client, admin) == {"team", "for-admins"}
        assert await _names(client, role_headers["api_service"]) == {"team"}

    async def test_is_owner_is_computed_per_caller(self, client, role_headers):
        await _hunt(client, role_headers["analyst"], sharing_mode="team")
        mine = (await client.get(URL, headers=role_headers["analyst"])).json()["items"][0]
        theirs = (await client.get(URL, headers=role_headers["admin"])).json()["items"][0]
        assert (mine["is_owner"], theirs["is_owner"]) == (True, False)
        assert mine["created_by"] == "analyst"

    async def test_only_the_owner_edits_or_deletes(self, client, role_headers):
        shared = await _hunt(client, role_headers["analyst"], sharing_mode="team")
        private = await _hunt(client, role_headers["analyst"], name="private")
        admin = role_headers["admin"]
        patch = await client.patch(f"{URL}/{shared['id']}", json={"name": "x"}, headers=admin)
        assert (patch.status_code, patch.json()["detail"]["code"]) == (403, "not_hunt_owner")
        assert (await client.delete(f"{URL}/{shared['id']}", headers=admin)).status_code == 403
        assert (await client.delete(f"{URL}/{private['id']}", headers=admin)).status_code == 404  # invisible
        assert (
            await client.delete(f"{URL}/{shared['id']}", headers=role_headers["analyst"])
        ).status_code == 204
        assert await _names(client, role_headers["analyst"]) == {"private"}

    async def test_viewers_of_a_shared_hunt_may_run_it(self, client, role_headers):
        shared = await _hunt(client, role_headers["analyst"], sharing_mode="team")
        private = await _hunt(client, role_headers["analyst"], name="private")
        h = role_headers["api_service"]
        assert (await client.post(f"{URL}/{shared['id']}/run", headers=h)).status_code == 200
        assert (await client.post(f"{URL}/{private['id']}/run", headers=h)).status_code == 404


class TestEdit:
    async def test_patch_changes_fields_and_moving_off_roles_clears_them(self, client, role_headers):
        h = role_headers["analyst"]
        hunt = await _hunt(client, h, sharing_mode="roles", shared_with_roles=["admin", "viewer"])
        body = {"sharing_mode": "team", "filters": {"range": "4h", "severity": "high"}, "description": None}
        resp = await client.patch(f"{URL}/{hunt['id']}", json=body, headers=h)
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert (out["sharing_mode"], out["shared_with_roles"]) == ("team", [])
        assert out["filters"] == {"range": "4h", "severity": ["high"]}

    @pytest.mark.parametrize(
        ("body", "needle"),
        [
            ({"query": "host:(x"}, "position"),
            ({"sharing_mode": "roles"}, "at least one role"),
            ({"shared_with_roles": ["admin"]}, "only applies"),
            ({"alert_on_hits": True}, "schedule_minutes"),
            ({"name": None}, "cannot be null"),
        ],
    )
    async def test_invalid_changes_are_400(self, client, role_headers, body, needle):
        h = role_headers["analyst"]
        hunt = await _hunt(client, h)
        resp = await client.patch(f"{URL}/{hunt['id']}", json=body, headers=h)
        assert resp.status_code == 400, resp.text
        assert needle in resp.json()["detail"]["message"]

    async def test_schedule_with_alerting_is_stored(self, client, role_headers):
        hunt = await _hunt(
            client, role_headers["analyst"], schedule_minutes=60, alert_on_hits=True, dispatch_agent=True
        )
        assert (hunt["schedule_minutes"], hunt["alert_on_hits"], hunt["dispatch_agent"]) == (60, True, True)

    @pytest.mark.parametrize(
        "body", [{"schedule_minutes": 1}, {"shared_with_roles": ["root"]}, {"filters": {"range": "2h"}}]
    )
    async def test_schema_violations_are_422(self, client, role_headers, body):
        resp = await client.post(
            URL, json={"name": "n", "query": "x", **body}, headers=role_headers["analyst"]
        )
        assert resp.status_code == 422


async def _seed_logs() -> None:
    async with session_scope() as session:
        session.add_all(
            SiemLogModel(source=src, format="json", host=host, message=msg, timestamp=NOW - age)
            for src, host, msg, age in [
                ("edr", "web-01", "powershell -enc AAA", timedelta(minutes=1)),
                ("edr", "web-02", "powershell -enc BBB", timedelta(minutes=2)),
                ("edr", "web-03", "powershell -enc CCC", timedelta(days=2)),
                ("fw", "web-04", "powershell -enc DDD", timedelta(minutes=3)),
                ("edr", "web-05", "notepad", timedelta(minutes=1)),
            ]
        )


class TestRun:
    async def test_run_counts_every_hit_and_returns_the_newest(self, client, role_headers):
        await _seed_logs()
        h = role_headers["analyst"]
        hunt = await _hunt(client, h, filters={"source": "edr", "range": "24h"})
        first = await client.post(f"{URL}/{hunt['id']}/run", params={"limit": 1}, headers=h)
        assert first.status_code == 200, first.text
        out = first.json()
        assert (out["hit_count"], out["truncated"]) == (2, True)
        assert [hit["host"] for hit in out["hits"]] == ["web-01"]
        assert (out["hunt"]["last_hit_count"], out["hunt"]["total_hits"]) == (2, 2)
        assert out["hunt"]["last_run_at"] is not None

        second = (await client.post(f"{URL}/{hunt['id']}/run", headers=h)).json()
        assert (second["hit_count"], second["truncated"], second["hunt"]["total_hits"]) == (2, False, 4)

    async def test_run_is_blocked_in_dummy_mode(self, client, role_headers):
        from aurorasoc.core import runtime

        hunt = await _hunt(client, role_headers["analyst"])
        runtime.set_mode("dummy")
        resp = await client.post(f"{URL}/{hunt['id']}/run", headers=role_headers["analyst"])
        assert resp.status_code == 409


class TestVisibilityQuery:
    """The JSON-list role match in SQL, on SQLite and PostgreSQL."""

    async def test_roles_mode_matches_whole_role_names(self, any_db_session):
        any_db_session.add_all(
            [
                SiemHuntModel(
                    name="a", query="x", created_by="u1", sharing_mode="roles", shared_with_roles=["analyst"]
                ),
                SiemHuntModel(
                    name="b",
                    query="x",
                    created_by="u1",
                    sharing_mode="roles",
                    shared_with_roles=["admin", "viewer"],
                ),
                SiemHuntModel(name="c", query="x", created_by="u1", sharing_mode="private"),
            ]
        )
        await any_db_session.flush()
        service = HuntService(any_db_session)
        rows, total = await service.list(Viewer("u2", "viewer"), skip=0, limit=10)
        assert ([r.name for r in rows], total) == (["b"], 1)
        rows, _ = await service.list(Viewer("u1", "operator"), skip=0, limit=10)
        assert {r.name for r in rows} == {"a", "b", "c"}
        with pytest.raises(NotFound):
            await service.get(uuid.uuid4(), Viewer("u1", "admin"))
