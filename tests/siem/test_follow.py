"""FileFollower: globs become log sources whose positions survive a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from aurorasoc.core import runtime
from aurorasoc.core.db import get_session_factory
from aurorasoc.core.models import LogSourceModel
from aurorasoc.core.vocabulary import NormalizedEvent, RuntimeMode
from aurorasoc.siem.ingest.follow import FileFollower, expand, split_patterns


def line(i: int) -> str:
    return json.dumps({"EventID": 4625, "Computer": "dc01", "TargetUserName": f"user{i}"}) + "\n"


class Collect:
    def __init__(self) -> None:
        self.events: list[NormalizedEvent] = []

    async def __call__(self, events: list[NormalizedEvent]) -> None:
        self.events.extend(events)


async def source_row(path: Path) -> LogSourceModel:
    async with get_session_factory()() as session:
        row = await session.scalar(select(LogSourceModel).where(LogSourceModel.path == str(path)))
    assert row is not None
    return row


def test_ingest_paths_setting_is_split_into_globs() -> None:
    assert split_patterns("/var/log/*.log, /srv/app/**/*.json;;") == ["/var/log/*.log", "/srv/app/**/*.json"]


def test_expand_lists_matching_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.log").write_text("y\n")
    assert expand([str(tmp_path / "**" / "*.log")]) == [tmp_path / "a.log", tmp_path / "sub" / "b.log"]


async def test_a_restarted_follower_resumes_after_the_last_saved_position(app_db, tmp_path: Path) -> None:
    log = tmp_path / "auth.ndjson"
    log.write_text(line(0) + line(1))
    first_sink = Collect()
    await FileFollower(first_sink, get_session_factory()).poll([log])
    with log.open("a") as handle:
        handle.write(line(2))
    second_sink = Collect()
    await FileFollower(second_sink, get_session_factory()).poll([log])  # a new process
    row = await source_row(log)
    assert [e.fields["TargetUserName"] for e in first_sink.events] == ["user0", "user1"]
    assert [e.fields["TargetUserName"] for e in second_sink.events] == ["user2"]
    assert (row.kind, row.name, row.events_total, row.offset) == (
        "file",
        "auth.ndjson",
        3,
        log.stat().st_size,
    )
    assert row.last_event_at is not None


async def test_errors_are_counted_and_reported_and_unreadable_files_skipped(app_db, tmp_path: Path) -> None:
    log = tmp_path / "bad.ndjson"
    log.write_text(line(0) + "{broken\n")
    reported: list[tuple[str, str]] = []
    follower = FileFollower(
        Collect(),
        get_session_factory(),
        format="json",
        on_error=lambda p, pos, msg: reported.append((p.name, pos)),
    )
    totals = await follower.poll([log, tmp_path / "missing.log"])
    row = await source_row(log)
    assert (totals.events, totals.parse_errors, totals.files) == (1, 1, 1)
    assert row.parse_errors == 1 and row.events_total == 1
    assert ("bad.ndjson", "line 2") in reported and any(name == "missing.log" for name, _ in reported)


async def test_same_file_name_in_two_folders_gets_two_sources(app_db, tmp_path: Path) -> None:
    for folder in ("web1", "web2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "access.ndjson").write_text(line(0))
    await FileFollower(Collect(), get_session_factory()).poll(expand([str(tmp_path / "*" / "access.ndjson")]))
    async with get_session_factory()() as session:
        names = sorted((await session.scalars(select(LogSourceModel.name))).all())
    assert names == ["access.ndjson", "web2/access.ndjson"]


async def test_run_picks_up_new_files_and_pauses_in_dummy_mode(app_db, tmp_path: Path) -> None:
    sink, stop = Collect(), asyncio.Event()
    follower = FileFollower(sink, get_session_factory())
    runtime.set_mode(RuntimeMode.DUMMY)
    task = asyncio.create_task(
        follower.run(lambda: expand([str(tmp_path / "*.ndjson")]), stop, interval=0.05)
    )
    (tmp_path / "late.ndjson").write_text(line(5))
    await asyncio.sleep(0.2)
    paused = len(sink.events)
    runtime.set_mode(RuntimeMode.REAL)
    for _ in range(100):
        if sink.events:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    runtime.reset_mode()
    assert paused == 0
    assert [e.fields["TargetUserName"] for e in sink.events] == ["user5"]
