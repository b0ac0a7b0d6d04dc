"""Format detection from the first bytes (spec §13.1) and transparent gzip decompression."""

from __future__ import annotations

import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"
EVTX_MAGIC = b"ElfFile\x00"
FORMATS = frozenset({"evtx", "json", "cef", "syslog", "eve", "zeek", "line", "auditd", "weblog", "w3c"})
FORMAT_ALIASES = {
    "ndjson": "json", "jsonl": "json", "suricata": "eve", "plain": "line", "text": "line", "audit": "auditd",
    "access": "weblog", "apache": "weblog", "nginx": "weblog", "clf": "weblog", "combined": "weblog",
    "iis": "w3c",
}  # fmt: skip

_BOM = b"\xef\xbb\xbf"
_PRI = rb"<\d{1,3}>"
_BSD_TIME = rb"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "
_RFC5424 = re.compile(_PRI + rb"1 ")
_RFC3164 = re.compile(rb"(?:" + _PRI + rb")?" + _BSD_TIME)
_CEF = re.compile(rb"^(?:" + _PRI + rb")?[^\n]{0,200}?CEF:\d+\|")
_HEAD_PEEK = 4096
_AUDIT = re.compile(rb"(?:node=\S+ )?type=\w+ msg=audit\(\d")
_W3C = re.compile(rb"#(?:Software|Version|Date|Fields):")  # IIS and other W3C extended logs
_ACCESS_LOG = re.compile(rb'(?:\S+ ){3,4}\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "')


def _gunzip_head(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, _HEAD_PEEK)
    except zlib.error:
        return b""


def _json_kind(head: bytes) -> str:
    """EVE and Zeek are JSON too; tell them apart by the keys of the first record."""
    end = head.find(b"\n}")
    first = head[: end if end > 0 else _HEAD_PEEK]
    if b'"event_type"' in first and (b'"src_ip"' in first or b'"flow_id"' in first or b'"dest_ip"' in first):
        return "eve"
    if b'"_path"' in first or b'"id.orig_h"' in first:
        return "zeek"
    return "json"


def detect_format(head: bytes) -> str:
    """Name of the parser for ``head``: evtx, json, eve, zeek, cef, syslog, auditd, weblog, w3c or line."""
    if head[:2] == GZIP_MAGIC:
        head = _gunzip_head(head)
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    head = head.removeprefix(_BOM).lstrip()
    if head[:1] in (b"{", b"["):
        return _json_kind(head[:_HEAD_PEEK])
    if head.startswith(b"#separator"):  # Zeek's default TSV logs
        return "zeek"
    if _CEF.match(head):
        return "cef"
    if _RFC5424.match(head) or _RFC3164.match(head):
        return "syslog"
    if _AUDIT.match(head):
        return "auditd"
    if _ACCESS_LOG.match(head):
        return "weblog"
    if _W3C.match(head) and b"#Fields:" in head:
        return "w3c"
    return "line"


def canonical_format(name: str) -> str:
    """Accept the documented aliases (``ndjson``…); unknown names raise ``ValueError``."""
    key = name.strip().lower()
    key = FORMAT_ALIASES.get(key, key)
    if key != "auto" and key not in FORMATS:
        raise ValueError(f"unknown log format {name!r}; expected auto or one of {sorted(FORMATS)}")
    return key
