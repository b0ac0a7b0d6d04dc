"""W3C extended log files (IIS, and other servers that write them): ``#Fields:`` names the columns.

Why a parser of its own: read as plain lines, an IIS log's events took the time they were ingested
(4,307 lines of the Tunna tunnel sample stamped 2026 instead of 2019-09-03) and named nothing a
``category: webserver`` Sigma rule reads. Columns keep their W3C names, which SigmaHQ's webserver
rules use; the header-style ones are named as the access-log parser names them (``cs(User-Agent)`` →
``cs-user-agent`` and ``c-useragent``, ``cs(Referer)`` → ``cs-referer``), and ``c-uri`` is the stem
with its query. ``date`` + ``time`` are UTC (IIS always logs UTC); a log without ``date`` takes it
from ``#Date``. ``-`` is an empty value. ``#Fields:`` may change mid-file (a restarted server), and a
file arrives in blocks of lines, so one ``W3CLog`` reads one input in order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aurorasoc.siem.normalize import build_event
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.weblog import EXTENSION, status_severity

# Header-style columns, named as the access-log parser names them (one vocabulary for webserver rules).
_RENAMED = {
    "cs(user-agent)": ("cs-user-agent", "c-useragent"),
    "cs(referer)": ("cs-referer",),
    "cs(cookie)": ("cs-cookie",),
    "cs(host)": ("cs-host",),
}
_INTEGERS = frozenset(
    {"sc-status", "sc-substatus", "sc-win32-status", "s-port", "sc-bytes", "cs-bytes", "time-taken"}
)


def _value(name: str, text: str) -> Any:
    if name in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            return text
    return text


class W3CLog:
    """The events of one W3C log, fed block by block in order (``#Fields:`` carries over)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.date: str | None = None

    def __call__(self, text: str, *, source: str) -> ParseStream:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                self._directive(line)
                continue
            if not self.names:
                yield ParseError(f"line {number}", "W3C log line before any #Fields: directive")
                continue
            values = line.split(" ")
            if len(values) != len(self.names):
                yield ParseError(f"line {number}", f"{len(values)} values for {len(self.names)} #Fields")
                continue
            yield self._event(dict(zip(self.names, values, strict=True)), line, source)

    def _directive(self, line: str) -> None:
        name, _, rest = line[1:].partition(":")
        if name == "Fields":
            self.names = rest.split()
        elif name == "Date":
            self.date = rest.strip()[:10] or None

    def _event(self, row: dict[str, str], line: str, source: str) -> Any:
        fields: dict[str, Any] = {}
        for name, text in row.items():
            if text == "-" or name in ("date", "time"):
                continue
            for key in _RENAMED.get(name.lower(), (name,)):
                fields[key] = _value(key, text)
        stem, query = fields.get("cs-uri-stem", ""), fields.get("cs-uri-query")
        if stem:
            fields["c-uri"] = f"{stem}?{query}" if query else stem
            if (ext := EXTENSION.search(stem)) is not None:
                fields["c-uri-extension"] = ext.group(1).lower()
        if query:
            fields["c-uri-query"] = query
        status = fields.get("sc-status")
        request = (fields.get("cs-method"), fields.get("c-uri"), status)
        return build_event(
            fields,
            format="w3c",
            source=source,
            raw=line,
            severity=status_severity(status if isinstance(status, int) else None),
            timestamp=self._time(row),
            host=fields.get("s-computername"),
            user_name=fields.get("cs-username"),
            src_ip=fields.get("c-ip"),
            dst_ip=fields.get("s-ip"),
            dst_port=fields.get("s-port") if isinstance(fields.get("s-port"), int) else None,
            message=" ".join(str(part) for part in request if part),
        )

    def _time(self, row: dict[str, str]) -> datetime | None:
        day, clock = row.get("date") or self.date, row.get("time")
        if not day or not clock:
            return None
        try:
            return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)
        except ValueError:
            return None
