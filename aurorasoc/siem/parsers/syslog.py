"""Syslog lines: RFC 5424 (structured data kept in ``fields["sd"]``) and RFC 3164 / BSD.

Facility and severity come from PRI; ``program[pid]`` becomes ``fields["program"]`` (the Sigma service).
BSD lines without ``<PRI>`` (plain ``/var/log/auth.log``) are accepted too. RFC 3164 carries no year: the
current one is assumed (``line_time.assume_year``), and the event's ``time_source`` says so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aurorasoc.core.vocabulary import NormalizedEvent, Severity
from aurorasoc.siem.normalize import build_event, parse_timestamp
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.line_time import YEAR_ASSUMED, bsd_time
from aurorasoc.siem.parsers.linux_syslog import add_program_fields

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
)  # fmt: skip
LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_SEVERITY_BY_LEVEL = (
    (Severity.CRITICAL,) * 3 + (Severity.HIGH, Severity.MEDIUM, Severity.LOW) + (Severity.INFO,) * 2
)

_RFC5424 = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ?(.*)", re.DOTALL)
_RFC3164 = re.compile(r"(?:<(\d{1,3})>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) (.*)", re.DOTALL)
_TAG = re.compile(r"([^\s:\[]{1,64})(?:\[(\d+)\])?: ?")
_SD_PARAM = re.compile(r'\s*([^=\s\]"]+)="((?:[^"\\]|\\.)*)"')
_SD_UNESCAPE = re.compile(r'\\(["\\\]])')


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _pri_fields(pri: str | None, fields: dict[str, Any]) -> Severity:
    if pri is None:
        return Severity.INFO
    value = int(pri)
    facility, level = divmod(value, 8)
    fields["pri"] = value
    fields["facility"] = FACILITIES[facility] if facility < len(FACILITIES) else str(facility)
    fields["level"] = LEVELS[level]
    return _SEVERITY_BY_LEVEL[level]


def parse_structured_data(text: str) -> tuple[dict[str, dict[str, str]], str]:
    """Split RFC 5424 ``[id k="v" …]…`` from the message; returns ``(sd, rest)``."""
    sd: dict[str, dict[str, str]] = {}
    if text.startswith("-"):
        return sd, text[1:].lstrip(" ").removeprefix("\ufeff")
    pos = 0
    while pos < len(text) and text[pos] == "[":
        end_id = pos + 1
        while end_id < len(text) and text[end_id] not in " ]":
            end_id += 1
        sd_id = text[pos + 1 : end_id]
        params: dict[str, str] = {}
        pos = end_id
        while (match := _SD_PARAM.match(text, pos)) is not None:
            params[match.group(1)] = _SD_UNESCAPE.sub(r"\1", match.group(2))
            pos = match.end()
        if pos >= len(text) or text[pos] != "]":
            raise ValueError("unterminated structured data element")
        sd[sd_id] = params
        pos += 1
    return sd, text[pos:].lstrip(" ").removeprefix("\ufeff")


def _tagged(rest: str, fields: dict[str, Any]) -> str:
    match = _TAG.match(rest)
    if match is None:
        return rest
    fields["program"] = match.group(1)
    if match.group(2):
        fields["pid"] = int(match.group(2))
    return rest[match.end() :]


def parse_syslog_line(line: str, *, source: str) -> NormalizedEvent | ParseError | None:
    """One syslog line as an event; ``None`` when the line is not syslog at all."""
    fields: dict[str, Any] = {}
    if (m := _RFC5424.match(line)) is not None:
        severity = _pri_fields(m.group(1), fields)
        try:
            sd, message = parse_structured_data(m.group(7))
        except ValueError as exc:
            return ParseError("", str(exc))
        timestamp = parse_timestamp(_nil(m.group(2)))
        time_source = "record" if timestamp is not None else "received"
        for key, value in zip(("hostname", "program", "procid", "msgid"), m.group(3, 4, 5, 6), strict=True):
            if value != "-":
                fields[key] = value
        fields["sd"] = sd
    elif (m := _RFC3164.match(line)) is not None:
        severity = _pri_fields(m.group(1), fields)
        timestamp = bsd_time(m.group(2), datetime.now(UTC))
        time_source = YEAR_ASSUMED if timestamp is not None else "received"
        fields["hostname"] = m.group(3)
        message = _tagged(m.group(4), fields)
    else:
        return None
    fields["message"] = message
    add_program_fields(fields, message, source)
    return build_event(
        fields, format="syslog", source=source, raw=line, severity=severity, timestamp=timestamp,
        time_source=time_source, host=fields.get("hostname"), message=message,
    )  # fmt: skip


def parse_syslog(text: str, *, source: str) -> ParseStream:
    """Parse syslog text, one message per line; non-syslog lines are reported as ``ParseError``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        result = parse_syslog_line(line, source=source)
        if result is None:
            yield ParseError(f"line {number}", "not an RFC 5424 or RFC 3164 syslog line")
        elif isinstance(result, ParseError):
            yield ParseError(f"line {number}", result.message)
        else:
            yield result
