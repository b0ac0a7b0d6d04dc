"""IOC typing and canonicalisation (spec §13.5).

Values are canonicalised so the same indicator always dedups and upserts to one row:
lower-case everywhere except URL paths, compressed IPv6, upper-case CVE and technique ids.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

from aurorasoc.core.vocabulary import IOCType, NormalizedEvent

MAX_IOCS_PER_ALERT = 50

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_TYPES = {32: IOCType.HASH_MD5, 40: IOCType.HASH_SHA1, 64: IOCType.HASH_SHA256}
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,24}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")
_URL = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)
_REGISTRY = re.compile(r"^(?:HKLM|HKCU|HKCR|HKU|HKEY_[A-Z_]+)\\", re.IGNORECASE)
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:\\|\\\\)")
_TECHNIQUE = re.compile(r"^(?:attack\.)?(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)

# "TLDs" that are really file extensions: `payload.exe` is a file name, not a domain.
FILE_EXTENSIONS = frozenset(
    [
        "exe",
        "dll",
        "ps1",
        "psm1",
        "bat",
        "cmd",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "hta",
        "scr",
        "sys",
        "drv",
        "ocx",
        "cpl",
        "msi",
        "msp",
        "lnk",
        "jar",
        "py",
        "sh",
        "pl",
        "rb",
        "tmp",
        "log",
        "txt",
        "ini",
        "cfg",
        "conf",
        "dat",
        "bin",
        "db",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "xlsm",
        "ppt",
        "pptx",
        "pdf",
        "rtf",
        "zip",
        "rar",
        "7z",
        "gz",
        "tar",
        "iso",
        "img",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "bmp",
        "csv",
        "xml",
        "json",
        "yaml",
        "yml",
        "html",
        "htm",
        "php",
        "asp",
        "aspx",
        "jsp",
        "evtx",
        "etl",
    ]
)


# RFC 1918, shared address space (RFC 6598) and unique-local IPv6; loopback, link-local, multicast and
# unspecified by flag. Documentation ranges (TEST-NET) are not internal: they stand in for public ones.
_INTERNAL = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
_INTERNAL_NETS = tuple(ipaddress.ip_network(n) for n in _INTERNAL)


def internal_address(value: str) -> bool:
    """Whether ``value`` is an address that is never an indicator by default (spec §27.3): it would
    match every internal event. False for anything that is not an IP address."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return True
    return any(ip in net for net in _INTERNAL_NETS if net.version == ip.version)


def _ip(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified:
        return None
    return str(address)


def _url(value: str) -> str:
    parts = urlsplit(value)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


def _domain(value: str) -> str | None:
    candidate = value.lower().rstrip(".")
    if not _DOMAIN.fullmatch(candidate) or candidate.rsplit(".", 1)[-1] in FILE_EXTENSIONS:
        return None
    return candidate


@lru_cache(maxsize=8192)
def classify_ioc(value: str) -> tuple[IOCType, str] | None:
    """The IOC type and canonical form of ``value``, or None when it is not a recognised indicator.

    Memoised: indicators recur across alerts, and an alert's are classified on ingest, for its
    dedup key and when they are indexed (the ``ipaddress`` parse was a tenth of a batch's CPU).
    """
    value = value.strip()
    if not value or len(value) > 2048:
        return None
    if _HEX.fullmatch(value) and len(value) in _HASH_TYPES:
        return _HASH_TYPES[len(value)], value.lower()
    if _CVE.fullmatch(value):
        return IOCType.CVE, value.upper()
    if (ip := _ip(value)) is not None:
        return IOCType.IP, ip
    if _URL.match(value):
        return IOCType.URL, _url(value)
    if _EMAIL.fullmatch(value):
        return IOCType.EMAIL, value.lower()
    if _REGISTRY.match(value):
        return IOCType.REGISTRY_KEY, value
    if _WINDOWS_PATH.match(value) or (value.startswith("/") and " " not in value and len(value) > 1):
        return IOCType.FILE_PATH, value
    if (domain := _domain(value)) is not None:
        return IOCType.DOMAIN, domain
    return None


def canonicalize_iocs(values: list[str]) -> list[str]:
    """Canonical, de-duplicated, order-preserving, capped at ``MAX_IOCS_PER_ALERT``.

    Unrecognised values are kept (stripped) so nothing a producer sent is silently lost.
    """
    seen: dict[str, None] = {}
    for raw in values:
        typed = classify_ioc(raw)
        canonical = typed[1] if typed else raw.strip()
        if canonical:
            seen.setdefault(canonical, None)
    return list(seen)[:MAX_IOCS_PER_ALERT]


def canonicalize_technique(technique_id: str) -> str | None:
    """``t1110.001`` / ``attack.t1110.001`` → ``T1110.001``; anything else → None."""
    match = _TECHNIQUE.fullmatch(technique_id.strip())
    return match.group(1).upper() if match else None


def canonicalize_techniques(values: list[str]) -> list[str]:
    return list(dict.fromkeys(t for v in values if (t := canonicalize_technique(v))))


# --- extraction from events -------------------------------------------------------------------

# Fields that hold indicators by name, checked before the free-text message (order is kept).
IOC_FIELDS = (
    "src_ip",
    "dst_ip",
    "dest_ip",
    "SourceIp",
    "DestinationIp",
    "IpAddress",
    "DestinationHostname",
    "QueryName",
    "query",
    "dns.rrname",
    "http.hostname",
    "tls.sni",
    "url",
    "http.url",
    "Hashes",
    "Hash",
    "sha256",
    "sha1",
    "md5",
    "fileinfo.sha256",
    "fileinfo.md5",
    "email",
    "sender",
    "recipient",
)
# Only these types count as event IOCs: paths and registry keys are context, not indicators.
_EVENT_IOC_TYPES = frozenset(
    {
        IOCType.IP,
        IOCType.DOMAIN,
        IOCType.URL,
        IOCType.EMAIL,
        IOCType.HASH_MD5,
        IOCType.HASH_SHA1,
        IOCType.HASH_SHA256,
        IOCType.CVE,
    }
)
_NON_HASH_ALGORITHMS = frozenset({"IMPHASH"})
_MESSAGE_PATTERNS = (
    re.compile(r"\b(?:https?|ftp)://[^\s\"'<>]+", re.IGNORECASE),
    re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"),
    re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE),
    re.compile(r"\b(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b"),
    re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"),
    re.compile(
        r"(?<![\w@.\\/-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b(?![\\/@-])"
    ),
)


def _field_values(name: str, value: Any) -> list[str]:
    """A field's candidate strings; ``Hashes`` (``SHA256=…,MD5=…``) is split per algorithm."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None or isinstance(item, dict | bool):
            continue
        text = str(item).strip()
        if name.lower() in ("hashes", "hash") and "=" in text:
            for part in text.split(","):
                algorithm, _, digest = part.partition("=")
                if algorithm.strip().upper() not in _NON_HASH_ALGORITHMS:
                    out.append(digest)
        else:
            out.append(text)
    return out


# The file a ``Hashes`` field describes: the loaded image (Sysmon 7), the written file (15/23/26), else the
# process image (Sysmon 1).
_HASHED_PATH_FIELDS = ("ImageLoaded", "TargetFilename", "Image")


def _hashed_path(event: NormalizedEvent) -> str | None:
    for name in _HASHED_PATH_FIELDS:
        value = event.fields.get(name)
        if isinstance(value, str) and value:
            return value
    return None


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list the package ships (no download); ~40 ms, once


def has_public_suffix(domain: str) -> bool:
    """Whether ``domain`` ends in a known public suffix (``example.net``, ``evil.co.uk``).

    Free text holds words joined by dots that are no domains: the EVTX samples' XSS requests made
    ``document.cookie`` an observable of their case. Fields that name a domain (DNS queries, URLs)
    are taken as they are, internal names like ``dc01.corp.local`` included."""
    return _suffixes().publicsuffix(domain, accept_unknown=False) is not None


def extract_observables(event: NormalizedEvent) -> list[dict[str, str]]:
    """Every observable in an event with the role it played (spec §27.3): known fields, then the message.

    Each item is ``{"type", "value", "role"}`` plus ``"path"`` for a hash (the file it is the hash of).
    Canonical, de-duplicated by value, loopback/unspecified addresses dropped, capped at
    ``MAX_IOCS_PER_ALERT``.
    """
    candidates: list[tuple[str, str]] = [
        (role, v) for role, v in (("source.ip", event.src_ip), ("destination.ip", event.dst_ip)) if v
    ]
    for name in IOC_FIELDS:
        if name in event.fields:
            candidates.extend((name, v) for v in _field_values(name, event.fields[name]))
    if event.message:
        for pattern in _MESSAGE_PATTERNS:
            candidates.extend(
                ("message", match.group(0).rstrip(".,;)]}")) for match in pattern.finditer(event.message)
            )
    found: dict[str, dict[str, str]] = {}
    for role, candidate in candidates:
        typed = classify_ioc(candidate)
        if typed is None or typed[0] not in _EVENT_IOC_TYPES or typed[1] in found:
            continue
        if role == "message" and typed[0] is IOCType.DOMAIN and not has_public_suffix(typed[1]):
            continue
        item = {"type": typed[0].value, "value": typed[1], "role": role}
        if typed[0] in (IOCType.HASH_MD5, IOCType.HASH_SHA1, IOCType.HASH_SHA256) and role != "message":
            path = _hashed_path(event)
            if path:
                item.update(role="file.hash", path=path)
        found[typed[1]] = item
        if len(found) >= MAX_IOCS_PER_ALERT:
            break
    return list(found.values())


def extract_iocs(event: NormalizedEvent) -> list[str]:
    """The values of :func:`extract_observables` (what correlation windows group and compare)."""
    return [item["value"] for item in extract_observables(event)]
