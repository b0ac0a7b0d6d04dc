"""Linux audit records (``/var/log/audit/audit.log``, or audisp lines forwarded over syslog).

Each record becomes one event, its ``key=value`` pairs becoming fields as SigmaHQ's ``service: auditd``
rules name them (``type``, ``a0``, ``a1``…, ``exe``, ``comm``, ``key``, ``name``). auditd prints a value
that holds spaces, quotes or control characters as bare hex (``a1=2D2D68656C70``, ``proctitle=…`` with
NUL separators); such values are decoded, since rules compare decoded text. Records written with
``log_format = ENRICHED`` carry the interpreted fields after a ``0x1d`` separator (``SYSCALL=memfd_create``,
``AUID="alice"``); those are kept under their upper-case names. ``msg=audit(EPOCH:SERIAL)`` gives the
time and the serial that ties the records of one system call together (``audit_serial``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aurorasoc.core.vocabulary import NormalizedEvent
from aurorasoc.siem.normalize import build_event
from aurorasoc.siem.parsers.base import ParseError, ParseStream

_RECORD = re.compile(r"(?:node=(\S+) )?type=(\w+) msg=audit\((\d+(?:\.\d+)?):(\d+)\):\s?(.*)", re.DOTALL)
_PAIR = re.compile(r"""([\w-]+)=("[^"]*"|'[^']*'|\S*)""")
_HEX = re.compile(r"(?:[0-9A-F]{2})+")
# Fields auditd hex-encodes when their text needs it (see audit-userspace's "encoded fields").
_ENCODED = frozenset(
    {"proctitle", "cmd", "comm", "exe", "cwd", "name", "path", "data", "acct", "old-acct", "new-acct"}
)
_ARG = re.compile(r"a\d+(?:\[\d+\])?")
_USER_KEYS = ("acct", "AUID", "UID")


def _decode(key: str, value: str, record_type: str) -> str:
    """Decode a bare hex value of an encoded field; NUL separators (argv in PROCTITLE) become spaces.

    ``aN`` are strings only in EXECVE records; in SYSCALL records they are the raw hex arguments.
    """
    encoded = key in _ENCODED or (record_type == "EXECVE" and _ARG.fullmatch(key) is not None)
    if encoded and len(value) >= 2 and _HEX.fullmatch(value):
        try:
            text = bytes.fromhex(value).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return value
        return text.replace("\x00", " ").strip()
    return value


def parse_pairs(text: str, fields: dict[str, Any]) -> None:
    """Add the ``key=value`` pairs of ``text``; a quoted ``msg='…'`` (user-space records) is opened too."""
    for key, raw in _PAIR.findall(text):
        if raw[:1] == "'" and key == "msg":
            parse_pairs(raw[1:-1], fields)
            continue
        quoted = raw[:1] in ('"', "'")
        fields[key] = raw[1:-1] if quoted else _decode(key, raw, str(fields.get("type")))


def _message(fields: dict[str, Any]) -> str:
    args = [str(fields[f"a{i}"]) for i in range(int(fields.get("argc") or 0)) if f"a{i}" in fields]
    if fields.get("type") == "EXECVE" and args:
        return "EXECVE " + " ".join(args)
    detail = " ".join(
        f"{key}={fields[key]}" for key in ("SYSCALL", "syscall", "exe", "name", "key", "res") if key in fields
    )
    return f"{fields.get('type')} {detail}".rstrip()


def parse_audit_record(line: str, *, source: str) -> NormalizedEvent | None:
    """One audit record as an event; ``None`` when ``line`` holds no ``type=… msg=audit(…)`` record."""
    match = _RECORD.search(line)
    if match is None:
        return None
    node, record_type, epoch, serial, rest = match.groups()
    fields: dict[str, Any] = {"type": record_type, "audit_serial": int(serial)}
    if node:
        fields["node"] = node
    body, _, enriched = rest.partition("\x1d")
    parse_pairs(body, fields)
    parse_pairs(enriched, fields)
    user = next((fields[key] for key in _USER_KEYS if fields.get(key) not in (None, "", "?", "unset")), None)
    return build_event(
        fields,
        format="auditd",
        source=source,
        raw=line,
        timestamp=datetime.fromtimestamp(float(epoch), UTC),
        host=node,
        user_name=None if user is None else str(user),
        message=_message(fields),
    )


def parse_auditd(text: str, *, source: str) -> ParseStream:
    """Parse audit.log text, one record per line; lines that are not audit records are ``ParseError``."""
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): it splits at 0x1d
        line = line.rstrip("\r")
        if not line.strip():
            continue
        event = parse_audit_record(line, source=source)
        if event is None:
            yield ParseError(f"line {number}", "not a Linux audit record (type=… msg=audit(…))")
        else:
            yield event
