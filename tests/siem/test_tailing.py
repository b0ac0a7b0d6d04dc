"""File tailing: only complete new lines, rotation and truncation, whole-file formats by record count."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

from conftest import SHARED_DATA, require_data

from aurorasoc.siem.ingest.files import TailPosition, read_new

DATA = SHARED_DATA
EVTX = DATA / "evtx-attack-samples" / "Persistence" / "Network_Service_Guest_added_to_admins_4732.evtx"


def line(i: int) -> str:
    return json.dumps({"EventID": 1, "Computer": "ws01", "CommandLine": f"cmd {i}"}) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def commands(chunk) -> list[str]:
    return [e.fields["CommandLine"] for e in chunk.events]


def test_reads_only_lines_appended_since_the_last_position(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson"
    log.write_text(line(0) + line(1))
    first = read_new(log, TailPosition())
    append(log, line(2))
    second = read_new(log, first.position)
    third = read_new(log, second.position)
    assert commands(first) == ["cmd 0", "cmd 1"]
    assert commands(second) == ["cmd 2"]
    assert third.events == [] and third.position == second.position
    assert second.position.offset == log.stat().st_size


def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson"
    full = line(7)
    log.write_text(line(6) + full[:10])
    first = read_new(log, TailPosition())
    append(log, full[10:])
    second = read_new(log, first.position)
    assert commands(first) == ["cmd 6"] and first.errors == []
    assert commands(second) == ["cmd 7"] and second.errors == []


def test_truncation_restarts_from_the_beginning(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson"
    log.write_text(line(0) + line(1) + line(2))
    before = read_new(log, TailPosition())
    log.write_text(line(9))  # truncate and rewrite in place: same inode, smaller size
    after = read_new(log, before.position)
    assert after.restarted and commands(after) == ["cmd 9"]


def test_rotation_to_a_new_inode_restarts(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson"
    log.write_text(line(0) + line(1))
    before = read_new(log, TailPosition())
    os.rename(log, tmp_path / "app.ndjson.1")
    log.write_text(line(5) + line(6) + line(7))  # new file, bigger than the old one
    after = read_new(log, before.position)
    assert after.restarted and commands(after) == ["cmd 5", "cmd 6", "cmd 7"]


def test_corrupt_lines_are_reported_with_their_byte_position(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson"
    log.write_text(line(0))
    first = read_new(log, TailPosition())
    append(log, "{not json\n" + line(1))
    second = read_new(log, first.position, format="json")
    assert commands(second) == ["cmd 1"]
    assert len(second.errors) == 1 and f"after byte {first.position.offset}" in second.errors[0].position


def test_gzip_files_are_reread_and_only_new_records_taken(tmp_path: Path) -> None:
    log = tmp_path / "app.ndjson.gz"
    log.write_bytes(gzip.compress("".join(line(i) for i in range(3)).encode()))
    first = read_new(log, TailPosition())
    unchanged = read_new(log, first.position)
    with log.open("r+b") as handle:  # rewritten in place, as a log shipper re-compressing would
        handle.write(gzip.compress("".join(line(i) for i in range(5)).encode()))
    grown = read_new(log, first.position)
    assert commands(first) == ["cmd 0", "cmd 1", "cmd 2"] and first.position.offset == 3
    assert unchanged.events == []
    assert commands(grown) == ["cmd 3", "cmd 4"] and not grown.restarted


def test_evtx_is_read_whole_once_per_modification(tmp_path: Path) -> None:
    require_data(EVTX)
    copy = tmp_path / "security.evtx"
    shutil.copy(EVTX, copy)
    first = read_new(copy, TailPosition())
    again = read_new(copy, first.position)
    assert first.events and first.position.offset == len(first.events) + len(first.errors)
    assert all(e.format == "evtx" for e in first.events)
    assert again.events == [] and again.position == first.position


def test_a_position_restored_without_size_still_detects_truncation(tmp_path: Path) -> None:
    """After a restart only offset and inode come back from the database."""
    log = tmp_path / "app.ndjson"
    log.write_text(line(0) + line(1) + line(2))
    before = read_new(log, TailPosition())
    log.write_text(line(4))
    restored = TailPosition(offset=before.position.offset, inode=before.position.inode)
    after = read_new(log, restored)
    assert after.restarted and commands(after) == ["cmd 4"]
