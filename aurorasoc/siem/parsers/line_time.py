"""The time a plain text line starts with, so an imported log sorts by when it happened.

A text log stored at its arrival time buries a month of history in the last hour of the SIEM view
(the ZeroLogon sample's 37,130 netlogon lines all read "today"). Recognised prefixes, optionally in
square brackets: ISO 8601 (``2024-05-01 12:00:00,123``, ``T``, zone), ``2024/05/01 12:00:00``, and
the yearless ``09/14 12:33:13`` (Windows debug logs such as netlogon.log) and ``Sep 14 12:33:13``
(BSD syslog). Yearless times take the current year, or the previous one when that would put the
event more than a day in the future; the event says so in ``time_source`` (``YEAR_ASSUMED``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aurorasoc.siem.normalize import parse_timestamp

YEAR_ASSUMED = "year_assumed"
_ISO = re.compile(
    r"\[?(\d{4})[-/](\d{2})[-/](\d{2})[T ](\d{2}:\d{2}:\d{2})([.,]\d{1,9})?(Z|[+-]\d{2}:?\d{2})?(?![\d:])"
)
_MONTH_DAY = re.compile(r"\[?(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?![\d:/])")
_BSD = re.compile(r"\[?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})(?![\d:])")


def assume_year(month: int, day: int, clock: str, now: datetime) -> datetime | None:
    """``month``/``day`` ``clock`` in ``now``'s year, or the year before when that is over a day ahead.

    29 February falls back to the most recent leap year's that is not ahead of ``now``."""
    for year in range(now.year, now.year - 8, -1):
        try:
            parsed = datetime.strptime(f"{year} {month} {day} {clock}", "%Y %m %d %H:%M:%S")
        except ValueError:
            if month == 2 and day == 29:
                continue  # not a leap year: try the year before
            return None
        if (stamped := parsed.replace(tzinfo=UTC)) - now <= timedelta(days=1):
            return stamped
    return None


def bsd_time(text: str, now: datetime) -> datetime | None:
    """``Sep 14 12:33:13`` (RFC 3164) with its year assumed."""
    try:
        stamp = datetime.strptime(f"2000 {text}", "%Y %b %d %H:%M:%S")  # 2000: a leap year
    except ValueError:
        return None
    return assume_year(stamp.month, stamp.day, f"{stamp:%H:%M:%S}", now)


def leading_time(line: str, now: datetime) -> tuple[datetime, bool] | None:
    """The time ``line`` starts with and whether its year was assumed; ``None`` when it has none."""
    text = line.lstrip("\ufeff ")
    if (m := _ISO.match(text)) is not None:
        fraction = (m.group(5) or "").replace(",", ".")[:7]
        zone = m.group(6) or ""
        parsed = parse_timestamp(f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}{fraction}{zone}")
        return (parsed, False) if parsed is not None else None
    if (m := _MONTH_DAY.match(text)) is not None:
        clock = f"{m.group(3)}:{m.group(4)}:{m.group(5)}"
        found = assume_year(int(m.group(1)), int(m.group(2)), clock, now)
        return (found, True) if found is not None else None
    if (m := _BSD.match(text)) is not None and (found := bsd_time(m.group(1), now)) is not None:
        return found, True
    return None
