"""Suricata EVE JSON: one object per line, ``event_type`` alert/dns/http/tls/flow/fileinfo/ssh…

Network columns come from ``src_ip/dest_ip/src_port/dest_port`` (generic normalisation); this module adds
a readable message, the alert severity (1 high, 2 medium, 3 low — spec §13.4) and the signature id.
"""

from __future__ import annotations

from typing import Any

from aurorasoc.core.vocabulary import Severity
from aurorasoc.detection.network_fields import add_network_aliases
from aurorasoc.siem.normalize import build_event, flatten
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.json_lines import iter_json_records

ALERT_SEVERITY = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}

_SUMMARY_KEYS: dict[str, str] = {
    "alert": "alert.signature",
    "dns": "dns.rrname",
    "http": "http.hostname",
    "tls": "tls.sni",
    "fileinfo": "fileinfo.filename",
    "ssh": "ssh.client.software_version",
}


def _message(fields: dict[str, Any]) -> str:
    event_type = str(fields.get("event_type") or "event")
    detail = fields.get(_SUMMARY_KEYS.get(event_type, ""))
    src = f"{fields.get('src_ip')}:{fields.get('src_port')}"
    flow = f"{src} -> {fields.get('dest_ip')}:{fields.get('dest_port')}"
    proto = fields.get("proto") or fields.get("app_proto") or ""
    return f"{event_type} {proto} {flow}" + (f" {detail}" if detail else "")


def parse_eve(text: str, *, source: str) -> ParseStream:
    """Parse EVE JSON into events with format ``eve``."""
    for item in iter_json_records(text):
        if isinstance(item, ParseError):
            yield item
            continue
        record, raw = item
        fields = flatten(record)
        add_network_aliases(fields, "eve")
        columns: dict[str, Any] = {"message": _message(fields), "host": record.get("host")}
        severity = Severity.INFO
        if fields.get("event_type") == "alert":
            severity = ALERT_SEVERITY.get(fields.get("alert.severity"), Severity.LOW)  # type: ignore[arg-type]
            sid = fields.get("alert.signature_id")
            columns["event_id"] = None if sid is None else str(sid)
        yield build_event(fields, format="eve", source=source, raw=raw, severity=severity, **columns)
