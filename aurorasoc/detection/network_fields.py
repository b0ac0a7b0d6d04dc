"""Sigma field names for Zeek and Suricata EVE records, and the Zeek log type of a record without ``_path``.

SigmaHQ's generic ``network`` / ``web`` rules use the taxonomy names (``query``, ``record_type``,
``answer`` for ``category: dns``; ``c-uri``, ``cs-host``, ``c-useragent``, ``cs-method``, ``sc-status`` for
``category: proxy``; ``dst_port``, ``action``, ``blocked`` for ``category: firewall``) while Zeek and
Suricata write their own. The aliases are added beside the native names, which ``product: zeek`` rules use.

Zeek writes ``_path`` only with the json-streaming package; plain ``LogAscii::use_json=T`` logs carry the log
type in the file name (``dns.log``, ``conn.2024-05-01-10-00-00.log.gz``). When neither names it, the record's
shape does (``conn_state`` only appears in conn.log, ``qtype_name`` only in dns.log…).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

ZEEK_LOGS = frozenset(
    {
        "conn", "dns", "http", "ssl", "x509", "files", "rdp", "kerberos", "smb_files", "smb_mapping",
        "dce_rpc", "ntlm", "ssh", "notice", "weird", "dhcp", "ftp", "smtp", "sip", "snmp", "tunnel",
        "software", "known_hosts", "known_services", "pe", "radius", "mysql", "irc", "modbus", "dnp3",
    }
)  # fmt: skip

# First log type whose key set is contained in the record's keys (most specific shapes first).
_ZEEK_SHAPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("dns", frozenset({"query", "qtype_name"})),
    ("dns", frozenset({"trans_id", "query"})),
    ("http", frozenset({"method", "uri"})),
    ("http", frozenset({"user_agent", "status_code"})),
    ("conn", frozenset({"conn_state"})),
    ("conn", frozenset({"history", "orig_bytes", "resp_bytes"})),
    ("ssl", frozenset({"server_name", "cipher"})),
    ("ssl", frozenset({"ssl_history"})),
    ("x509", frozenset({"certificate.subject"})),
    ("rdp", frozenset({"cookie", "security_protocol"})),
    ("kerberos", frozenset({"request_type", "client", "service"})),
    ("dce_rpc", frozenset({"endpoint", "operation"})),
    ("smb_files", frozenset({"action", "path", "name"})),
    ("files", frozenset({"fuid", "seen_bytes"})),
    ("ssh", frozenset({"auth_success", "client", "server"})),
    ("notice", frozenset({"note", "msg"})),
    ("weird", frozenset({"name", "notice", "peer"})),
)

_PROXY_ALIASES = {
    "zeek": (
        ("user_agent", "c-useragent"), ("uri", "c-uri"), ("host", "cs-host"), ("method", "cs-method"),
        ("status_code", "sc-status"), ("referrer", "cs-referer"),
    ),
    "eve": (
        ("http.http_user_agent", "c-useragent"), ("http.url", "c-uri"), ("http.hostname", "cs-host"),
        ("http.http_method", "cs-method"), ("http.status", "sc-status"), ("http.http_refer", "cs-referer"),
    ),
}  # fmt: skip
_PORT_ALIASES = {
    "zeek": (
        ("id.orig_h", "src_ip"),
        ("id.orig_p", "src_port"),
        ("id.resp_h", "dst_ip"),
        ("id.resp_p", "dst_port"),
    ),
    "eve": (("dest_ip", "dst_ip"), ("dest_port", "dst_port")),
}
# conn_state values for a connection that was answered (allowed) or refused.
_ZEEK_ALLOWED = frozenset({"SF", "S1", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"})
_ZEEK_REFUSED = frozenset({"REJ"})


def zeek_log_type(fields: dict[str, Any], source: str) -> str | None:
    """The Zeek log a record comes from: ``_path``, else the file name, else the record's shape."""
    if fields.get("_path"):
        return str(fields["_path"])
    stem = PurePath(source).name.lower().split(".", 1)[0]
    if stem in ZEEK_LOGS:
        return stem
    keys = fields.keys()
    return next((path for path, shape in _ZEEK_SHAPES if shape <= keys), None)


def _alias(fields: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> None:
    for native, name in pairs:
        value = fields.get(native)
        if value is not None and value != "-" and name not in fields:
            fields[name] = value


def _uri_parts(fields: dict[str, Any]) -> None:
    uri = fields.get("c-uri")
    if not isinstance(uri, str):
        return
    parts = urlsplit(uri)
    if parts.query:
        fields.setdefault("c-uri-query", parts.query)
    stem = parts.path.rsplit("/", 1)[-1]
    if "." in stem:
        fields.setdefault("c-uri-extension", stem.rsplit(".", 1)[1].lower())


def _eve_dns(fields: dict[str, Any]) -> None:
    query = fields.get("dns.rrname") or fields.get("dns.queries.0.rrname")
    rrtype = fields.get("dns.rrtype") or fields.get("dns.queries.0.rrtype")
    answers = [v for k, v in fields.items() if k.startswith("dns.answers.") and k.endswith(".rdata")]
    if fields.get("dns.rdata") is not None:
        answers.append(fields["dns.rdata"])
    for name, value in (("query", query), ("record_type", rrtype), ("answer", answers or None)):
        if value is not None:
            fields.setdefault(name, value)


def add_network_aliases(fields: dict[str, Any], kind: str) -> None:
    """Add the taxonomy names to a flattened Zeek (``kind="zeek"``) or EVE (``"eve"``) record."""
    _alias(fields, _PORT_ALIASES[kind])
    log = fields.get("_path") if kind == "zeek" else fields.get("event_type")
    if log == "http":
        _alias(fields, _PROXY_ALIASES[kind])
        _uri_parts(fields)
    elif log == "dns" and kind == "zeek":
        _alias(fields, (("qtype_name", "record_type"), ("answers", "answer")))
    elif log == "dns":
        _eve_dns(fields)
    elif log == "conn":
        state = fields.get("conn_state")
        if state in _ZEEK_ALLOWED:
            fields.setdefault("action", "accept")
            fields.setdefault("blocked", "false")
        elif state in _ZEEK_REFUSED:
            fields.setdefault("action", "reject")
            fields.setdefault("blocked", "true")
