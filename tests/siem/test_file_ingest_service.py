"""The API tails AURORA_INGEST_PATHS in embedded mode: appended lines become stored events and alerts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from aurorasoc.api.main import create_app
from aurorasoc.core.config import get_settings, reset_settings
from aurorasoc.core.db import get_session_factory, session_scope
from aurorasoc.core.models import AlertModel, LogSourceModel, SiemLogModel
from aurorasoc.detection.rules import import_startup_rules
from aurorasoc.siem.ingest.service import FileIngestService

SUDO = "<86>Nov 24 10:00:0{s} web01 sudo: alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/bash\n"
SUDO_RULE = "8dc18c2c-57c6-5802-b376-09a41c8483f4"  # bundled linux_sudo_root_shell.yml


async def scalar(stmt) -> int:  # type: ignore[no-untyped-def]
    async with get_session_factory()() as session:
        return int(await session.scalar(stmt) or 0)


async def eventually(stmt, expected: int) -> int:  # type: ignore[no-untyped-def]
    value = -1
    for _ in range(200):
        value = await scalar(stmt)
        if value >= expected:
            return value
        await asyncio.sleep(0.05)
    return value


async def test_lifespan_tails_configured_paths(
    app_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("AURORA_INGEST_PATHS", str(logs / "*.log"))
    reset_settings()
    async with session_scope() as session:
        await import_startup_rules(session, get_settings())
    app = create_app()
    assert [type(s) for s in app.state.services] == [FileIngestService]
    async with app.router.lifespan_context(app):
        (logs / "auth.log").write_text(SUDO.format(s=1))
        stored = await eventually(select(func.count()).select_from(SiemLogModel), 1)
        alerts = await eventually(select(func.count()).select_from(AlertModel), 1)
    assert (stored, alerts) == (1, 1)
    assert await scalar(select(LogSourceModel.events_total).where(LogSourceModel.name == "auth.log")) == 1
    ingested = REGISTRY.get_sample_value("events_ingested_total", {"source": "auth.log"})
    hits = REGISTRY.get_sample_value("detection_rule_hits_total", {"rule_uid": SUDO_RULE})
    assert ingested is not None and ingested >= 1 and hits is not None and hits >= 1


def test_no_paths_or_no_workers_means_no_tailing(app_db, monkeypatch: pytest.MonkeyPatch) -> None:
    assert create_app().state.services == []
    monkeypatch.setenv("AURORA_INGEST_PATHS", "/var/log/*.log")
    reset_settings()
    assert create_app(workers=False).state.services == []
