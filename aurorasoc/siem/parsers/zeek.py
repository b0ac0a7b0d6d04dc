"""Zeek JSON logs (``json-logs`` policy): keys are already dotted (``id.orig_h``); ``_path`` names the log.

``id.orig_h/id.orig_p/id.resp_h/id.resp_p`` become the network columns (generic normalisation); ``ts`` is
epoch seconds or ISO text. Files written without ``_path`` are still recognised by their ``id.*`` keys, and
their log type is taken from the file name or the record's shape (``network_fields.zeek_log_type``).
"""

from __future__ import annotations

from typing import Any

from aurorasoc.detection.network_fields import add_network_aliases, zeek_log_type
from aurorasoc.siem.normalize import build_event, flatten
from aurorasoc.siem.parsers.base import ParseError, ParseStream
from aurorasoc.siem.parsers.json_lines import iter_json_records
from aurorasoc.siem.parsers.zeek_tsv import iter_tsv_records

_SUMMARY_KEYS = ("query", "host", "uri", "server_name", "service", "name", "note", "msg")


def _message(fields: dict[str, Any]) -> str:
    path = fields.get("_path") or "zeek"
    orig = f"{fields.get('id.orig_h')}:{fields.get('id.orig_p')}"
    flow = f"{orig} -> {fields.get('id.resp_h')}:{fields.get('id.resp_p')}"
    detail = next((str(fields[key]) for key in _SUMMARY_KEYS if fields.get(key) not in (None, "", "-")), "")
    return f"{path} {flow} {detail}".rstrip()


def parse_zeek(text: str, *, source: str) -> ParseStream:
    """Parse Zeek JSON or TSV (``#separator`` header) logs into events with format ``zeek``."""
    records = iter_tsv_records(text) if text.lstrip().startswith("#separator") else iter_json_records(text)
    for item in records:
        if isinstance(item, ParseError):
            yield item
            continue
        record, raw = item
        fields = flatten(record)
        if (path := zeek_log_type(fields, source)) is not None:
            fields["_path"] = path
        add_network_aliases(fields, "zeek")
        yield build_event(
            fields,
            format="zeek",
            source=source,
            raw=raw,
            message=_message(fields),
            host=record.get("_system_name"),
        )
