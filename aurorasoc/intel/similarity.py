"""Lexical IOC similarity (spec §14.4): same /24 or /64, shared registered domain, substring.

Semantic search over ``aurora_threat_intel`` needs the memory module (§17); this one needs only
the ``iocs`` table and reads at most ``_SCAN`` rows per probe.
"""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.vocabulary import IOCType
from aurorasoc.intel.models import IOCModel

IOCKey = tuple[str, str]  # (type, canonical value)
Hit = tuple[IOCModel, str, float]  # the IOC, why it is related, score

_SCAN = 500  # rows a similarity probe reads at most per clause
_HOST_TYPES = [IOCType.DOMAIN.value, IOCType.URL.value, IOCType.EMAIL.value]
# Second-level labels under country TLDs (co.uk, com.au, …): a heuristic, not the Public Suffix List.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go"})


async def related_iocs(session: AsyncSession, key: IOCKey | None, text: str, limit: int) -> list[Hit]:
    """IOCs related to ``text`` (typed as ``key`` when it is an indicator), best first, itself excluded."""
    found: dict[uuid.UUID, Hit] = {}
    for ioc, reason, score in [*await _neighbours(session, key), *await _containing(session, text)]:
        if (ioc.type, ioc.value) != key and ioc.id not in found:
            found[ioc.id] = (ioc, reason, score)
    ranked = sorted(found.values(), key=lambda hit: (-hit[2], -hit[0].last_seen.timestamp()))
    return ranked[:limit]


async def _containing(session: AsyncSession, text: str) -> list[Hit]:
    if len(text) < 3:
        return []
    pattern = f"%{escape_like(text)}%"
    rows = await session.scalars(
        select(IOCModel).where(IOCModel.value.ilike(pattern, escape="\\")).limit(_SCAN)
    )
    return [(ioc, f"value contains {text!r}", 0.4) for ioc in rows]


async def _neighbours(session: AsyncSession, key: IOCKey | None) -> list[Hit]:
    if key is None:
        return []
    if key[0] == IOCType.IP.value:
        network = _network(key[1])
        prefix = key[1].rsplit(".", 1)[0] + "." if network.version == 4 else key[1].split(":")[0] + ":"
        rows = await _scan(session, [IOCType.IP.value], f"{escape_like(prefix)}%")
        return [(r, f"same /{network.prefixlen} as {key[1]}", 0.7) for r in rows if _in(r.value, network)]
    host = _host(*key)
    if host is None:
        return []
    domain = registered_domain(host)
    rows = await _scan(session, _HOST_TYPES, f"%{escape_like(domain)}%")
    hits = [
        (r, h) for r in rows if (h := _host(r.type, r.value)) and (h == domain or h.endswith("." + domain))
    ]
    return [
        (r, "same host" if h == host else f"shares domain {domain}", 0.8 if h == host else 0.6)
        for r, h in hits
    ]


async def _scan(session: AsyncSession, types: list[str], pattern: str) -> list[IOCModel]:
    query = select(IOCModel).where(IOCModel.type.in_(types), IOCModel.value.ilike(pattern, escape="\\"))
    return list(await session.scalars(query.limit(_SCAN)))


def registered_domain(host: str) -> str:
    """``a.b.example.co.uk`` → ``example.co.uk``; ``x.example.com`` → ``example.com``."""
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _host(ioc_type: str, value: str) -> str | None:
    if ioc_type == IOCType.DOMAIN.value:
        return value
    if ioc_type == IOCType.EMAIL.value:
        return value.rpartition("@")[2]
    if ioc_type == IOCType.URL.value:
        host = urlsplit(value).hostname
        return host if host and not _is_ip(host) else None
    return None


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    bits = 24 if ipaddress.ip_address(value).version == 4 else 64
    return ipaddress.ip_network(f"{value}/{bits}", strict=False)


def _in(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return _is_ip(value) and ipaddress.ip_address(value) in network


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def escape_like(text: str) -> str:
    """``text`` matched literally inside an ``ILIKE … ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
