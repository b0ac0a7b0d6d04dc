"""Plain text lines keep the time they start with (``siem.parsers.line_time``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import SHARED_DATA, require_data

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.parsers import parse_bytes, parse_file
from aurorasoc.siem.parsers.line_time import YEAR_ASSUMED, leading_time

NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "expected", "year_assumed"),
    [
        ("2024-05-01 12:00:00,123 INFO started", datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC), False),
        ("2024-05-01T12:00:00Z x", datetime(2024, 5, 1, 12, tzinfo=UTC), False),
        ("[2024/05/01 12:00:00] x", datetime(2024, 5, 1, 12, tzinfo=UTC), False),
        (
            "2024-05-01T12:00:00+02:00 x",
            datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            False,
        ),
        ("\ufeff09/14 12:33:00 [MISC] [3448] DbFlag", datetime(2026, 9, 14, 12, 33, tzinfo=UTC), True),
        ("12/31 23:59:59 x", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), True),  # would be ahead
        ("Dec  8 01:00:00 web01 sshd: x", datetime(2026, 12, 8, 1, tzinfo=UTC), True),  # < a day ahead
        ("02/29 10:00:00 x", datetime(2024, 2, 29, 10, tzinfo=UTC), True),  # the last leap year
    ],
)
def test_leading_times(line: str, expected: datetime, year_assumed: bool) -> None:
    assert leading_time(line, NOW) == (expected, year_assumed)


@pytest.mark.parametrize(
    "line",
    [
        "user bob logged in at 2024-05-01 12:00:00",
        "13/45 12:00:00 x",
        "2024-05-01 12:00:00:17 x",
        "09/14/2020 x",
    ],
)
def test_lines_without_a_leading_time(line: str) -> None:
    assert leading_time(line, NOW) is None


def test_a_line_without_a_time_keeps_its_arrival() -> None:
    before = datetime.now(UTC)
    dated, plain = (
        e for e in parse_bytes(b"2024-05-01 12:00:00 job done\nno time here\n", source="app")
        if isinstance(e, NormalizedEvent)
    )  # fmt: skip
    assert (dated.timestamp, dated.time_source) == (datetime(2024, 5, 1, 12, tzinfo=UTC), "record")
    assert plain.time_source == "received" and plain.timestamp >= before


def test_the_zerologon_netlogon_log_is_dated_by_its_lines() -> None:
    """37,130 lines that all read "today" in the SIEM before; September, year assumed, now."""
    require_data(SHARED_DATA)
    path: Path = SHARED_DATA / "evtx-attack-samples" / "Other" / "netlogon_log_CVE-2020-1472_ZeroLogon.txt"
    events = [e for e in parse_file(path) if isinstance(e, NormalizedEvent)]
    assert len(events) > 30_000
    assert {e.time_source for e in events} == {YEAR_ASSUMED}
    assert {(e.timestamp.month, e.timestamp.day) for e in events} <= {(9, 14), (9, 15)}
    assert events[0].timestamp <= events[-1].timestamp


def test_a_clock_that_was_never_set_is_no_event_time() -> None:
    """The EVTX samples' access log holds a '-' request at 01/Jan/1970: it stretched every all-time
    chart over 48 years. Unix time 0 and Windows' FILETIME 0 (1601) are unset clocks (spec §27.1)."""
    before = datetime.now(UTC)
    data = (
        b'192.168.105.83 - - [01/Jan/1970:03:00:00 +0300] "-" 400 -\n'
        b'192.168.105.83 - - [11/Jul/2018:10:32:19 +0300] "GET / HTTP/1.1" 200 5\n'
    )
    zero, real = (e for e in parse_bytes(data, source="access.log") if isinstance(e, NormalizedEvent))
    assert zero.time_source == "received" and zero.timestamp >= before
    assert real.time_source == "record" and real.timestamp.year == 2018
    (filetime_zero,) = parse_bytes(b'{"@timestamp": "1601-01-01T00:00:00Z", "message": "x"}\n', source="app")
    assert isinstance(filetime_zero, NormalizedEvent) and filetime_zero.time_source == "received"
