"""Web server access logs: NCSA common/combined (Apache, nginx's default ``combined``) and vhost forms.

Lines are parsed with ``apachelogs`` and their fields named as SigmaHQ's ``category: webserver`` and
``proxy`` rules expect (W3C names): ``c-ip``, ``cs-username``, ``cs-method``, ``c-uri`` (the request target
as logged), ``cs-uri-stem``, ``cs-uri-query`` (without ``?``), ``c-uri-extension``, ``cs-version``,
``sc-status`` (an integer), ``sc-bytes``, ``cs-referer``, ``c-useragent`` / ``cs-user-agent`` and
``cs-host`` for vhost logs. The raw line stays the event's raw text, which keyword rules search.
"""

from __future__ import annotations

import re
from typing import Any

from apachelogs import COMBINED, COMMON, VHOST_COMBINED, VHOST_COMMON, InvalidEntryError, LogEntry, LogParser

from aurorasoc.core.vocabulary import Severity
from aurorasoc.siem.normalize import build_event
from aurorasoc.siem.parsers.base import ParseError, ParseStream

_PARSERS = tuple(LogParser(fmt) for fmt in (COMBINED, COMMON, VHOST_COMBINED, VHOST_COMMON))
EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


def status_severity(status: int | None) -> Severity:
    """A server error is worth a look; anything else is traffic."""
    return Severity.LOW if status is not None and status >= 500 else Severity.INFO


def _parse(line: str) -> LogEntry | None:
    for parser in _PARSERS:
        try:
            return parser.parse(line)
        except InvalidEntryError:
            continue
    return None


def _fields(entry: LogEntry) -> dict[str, Any]:
    parts = (entry.request_line or "").split(" ")
    if len(parts) < 3:  # "-" or junk sent instead of a request line
        parts = ["", "", ""]
    method, target, version = parts[0], " ".join(parts[1:-1]), parts[-1]
    stem, _, query = target.partition("?")
    headers = getattr(entry, "headers_in", None) or {}
    fields: dict[str, Any] = {
        "c-ip": entry.remote_host,
        "cs-username": entry.remote_user,
        "cs-method": method,
        "c-uri": target,
        "cs-uri-stem": stem,
        "cs-uri-query": query or None,
        "c-uri-query": query or None,
        "cs-version": version,
        "sc-status": entry.final_status,
        "sc-bytes": getattr(entry, "bytes_sent", None) or getattr(entry, "bytes_out", None),
        "cs-referer": headers.get("Referer"),
        "c-useragent": headers.get("User-Agent"),
        "cs-user-agent": headers.get("User-Agent"),
        "cs-host": getattr(entry, "virtual_host", None),
    }
    if (ext := EXTENSION.search(stem)) is not None:
        fields["c-uri-extension"] = ext.group(1).lower()
    return {key: value for key, value in fields.items() if value not in (None, "", "-")}


def parse_weblog(text: str, *, source: str) -> ParseStream:
    """Parse an access log, one request per line; other lines are reported as ``ParseError``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        entry = _parse(line)
        if entry is None:
            yield ParseError(f"line {number}", "not a common/combined access log line")
            continue
        fields = _fields(entry)
        status = fields.get("sc-status")
        yield build_event(
            fields,
            format="weblog",
            source=source,
            raw=line,
            severity=status_severity(status),
            timestamp=entry.request_time,
            host=fields.get("cs-host"),
            user_name=fields.get("cs-username"),
            src_ip=fields.get("c-ip"),
            message=f"{entry.request_line} {status if status is not None else '-'}",
        )
