"""IOC typing and canonicalisation (spec §13.5).

Values are canonicalised so the same indicator always dedups and upserts to one row:
lower-case everywhere except URL paths, compressed IPv6, upper-case CVE and technique ids.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from aurorasoc.models.domain import IOCType

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


def classify_ioc(value: str) -> tuple[IOCType, str] | None:
    """The IOC type and canonical form of ``value``, or None when it is not a recognised indicator."""
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
