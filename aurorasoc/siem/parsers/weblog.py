"""Web server access logs: NCSA common/combined (Apache, nginx's default ``combined``) and vhost forms.

Lines are parsed with ``apachelogs`` and their fields named as SigmaHQ's ``category: webserver`` and
``proxy`` rules expect (W3C names): ``c-ip``, ``cs-username``, ``cs-method``, ``c-uri`` (the request target
as logged), ``cs-uri-stem``, ``cs-uri-query`` (without ``?``), ``c-uri-extension``, ``cs-version``,
``sc-status`` (an integer), ``sc-bytes``, ``cs-referer``, ``c-useragent`` / ``cs-user-agent`` and
``cs-host`` for vhost logs. The raw line stays the event's raw text, which keyword rules search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apachelogs import COMBINED, COMMON, VHOST_COMBINED, VHOST_COMMON, InvalidEntryError, LogEntry, LogParser
from apachelogs.util import unescape

from aurorasoc.core.vocabulary import Severity
from aurorasoc.siem.normalize import build_event
from aurorasoc.siem.parsers.base import ParseError, ParseStream

_COMBINED = tuple(LogParser(fmt) for fmt in (COMBINED, VHOST_COMBINED))
_COMMON = tuple(LogParser(fmt) for fmt in (COMMON, VHOST_COMMON))
EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")
# What follows the quoted request: `" <status> <size>`, then in combined logs the quoted referer and
# user agent. Neither pattern can match one text two ways, so both run in linear time.
_STATUS = re.compile(r'" \d{3} (?:\d+|-)')
_REFERER_AGENT = re.compile(r' "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"')
_VERBATIM = re.compile(r'(?<!\\)"|[^\x20-\x7e]')  # what Apache would have escaped


def status_severity(status: int | None) -> Severity:
    """A server error is worth a look; anything else is traffic."""
    return Severity.LOW if status is not None and status >= 500 else Severity.INFO


@dataclass(frozen=True)
class _Request:
    entry: LogEntry  # client, user, time, status, size (and virtual host) as apachelogs reads them
    line: str | None  # the request line as sent
    referer: str | None
    agent: str | None


def _parse(line: str) -> _Request | None:
    """The request a line records; ``None`` when it is no common/combined line.

    The quoted strings a client controls (request, referer, user agent) are cut out first, in linear
    time: from the first `] "` to the last `" <status> <size>` that only a quoted referer and user
    agent may follow. ``apachelogs`` reads the rest with "-" in their place. Handed whole lines, its
    pattern for an escaped string matches each ``\\xhh`` two ways: a TLS handshake logged as 30
    escapes took 96 s to be refused as a combined line, as did a referer of escapes beside a user
    agent it could not read; and a server that logs requests verbatim (Tomcat's access log valve; the
    EVTX samples' log holds the XSS probe ``GET /?postdata="><script>…``, a raw NUL and that
    handshake) was not parsed at all.
    """
    start = line.find('] "') + 3
    if start < 3:
        return None
    for status in reversed(list(_STATUS.finditer(line, start))):
        rest = line[status.end() :]
        quoted = _REFERER_AGENT.fullmatch(rest) if rest else None
        if rest and quoted is None:
            continue
        placeholders = ' "-" "-"' if quoted else ""
        probe = f"{line[:start]}-{line[status.start() : status.end()]}{placeholders}"
        for parser in _COMBINED if quoted else _COMMON:
            try:
                entry = parser.parse(probe)
            except InvalidEntryError:
                continue
            referer, agent = (quoted[1], quoted[2]) if quoted else (None, None)
            return _Request(entry, _read(line[start : status.start()]), _read(referer), _read(agent))
        return None
    return None


def _read(logged: str | None) -> str | None:
    """Apache's escapes read back (as ``apachelogs`` reads them); a string logged verbatim as is."""
    if logged in (None, "", "-"):
        return None
    return logged if _VERBATIM.search(logged) else unescape(logged).decode("iso-8859-1")


def _fields(request: _Request) -> dict[str, Any]:
    entry = request.entry
    parts = (request.line or "").split(" ")
    if len(parts) < 3:  # "-" or junk sent instead of a request line
        parts = ["", "", ""]
    method, target, version = parts[0], " ".join(parts[1:-1]), parts[-1]
    stem, _, query = target.partition("?")
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
        "cs-referer": request.referer,
        "c-useragent": request.agent,
        "cs-user-agent": request.agent,
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
        parsed = _parse(line)
        if parsed is None:
            yield ParseError(f"line {number}", "not a common/combined access log line")
            continue
        fields = _fields(parsed)
        status = fields.get("sc-status")
        yield build_event(
            fields,
            format="weblog",
            source=source,
            raw=line,
            severity=status_severity(status),
            timestamp=parsed.entry.request_time,
            host=fields.get("cs-host"),
            user_name=fields.get("cs-username"),
            src_ip=fields.get("c-ip"),
            message=f"{parsed.line or '-'} {status if status is not None else '-'}",
        )
