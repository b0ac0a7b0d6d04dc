"""Pure rules of network-attack correlation (spec §13.8): which alerts are network alerts, their
telemetry family, endpoints and category, and how an attack's confidence and severity grow.

No I/O here, so the rules are testable on plain values; ``network_attacks.py`` loads and stores.

Decisions beyond the spec text:

* Family comes from the detection metadata first (``metadata.telemetry_family`` for API-posted
  alerts, EVE passthrough → ``ids``, the Sigma logsource category ``dns``/``firewall``/``proxy``),
  then from the alert source name (``suricata``/``snort`` → ``ids``, ``zeek``/``pcap`` → ``pcap``,
  ``dns``, ``firewall``/``netflow`` → ``flow``, ``proxy``). Families outside the weight table
  (``proxy``, ``other``) weigh 0.2.
* Endpoints: ``metadata.src_ip``/``dst_ip`` (or ``dest_ip``), then the linked ``siem_logs``
  columns, then the raw event (EVE ``src_ip``/``dest_ip``, Zeek ``id.orig_h``/``id.resp_h``),
  then the IP IOCs in order (``extract_iocs`` lists the source before the destination). An alert
  with no IP at all cannot be placed and is skipped.
* Category: each technique votes for the categories of its tactics; most votes wins, ties go to
  the order of the spec list (C2, lateral movement, credential access, exfiltration, recon).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aurorasoc.core.vocabulary import Severity
from aurorasoc.intel import attack
from aurorasoc.intel.extraction import classify_ioc
from aurorasoc.siem.normalize import flatten

FAMILY_WEIGHTS: dict[str, float] = {"ids": 0.5, "pcap": 0.4, "dns": 0.3, "flow": 0.25}
OTHER_WEIGHT = 0.2
FAMILIES = (*FAMILY_WEIGHTS, "proxy", "other")
CATEGORIES = ("c2_beacon", "lateral_movement", "credential_access", "exfiltration", "recon", "other")
CATEGORY_LABELS = {
    # The whole tactic, not "C2 beacon": bitsadmin fetching a file from a CDN (T1105 Ingress Tool
    # Transfer) is command and control, and no beacon.
    "c2_beacon": "Command and control",
    "lateral_movement": "Lateral movement",
    "credential_access": "Credential access",
    "exfiltration": "Exfiltration",
    "recon": "Reconnaissance",
    "other": "Network attack",
}
_TACTIC_CATEGORY = {
    "command-and-control": "c2_beacon",
    "lateral-movement": "lateral_movement",
    "credential-access": "credential_access",
    "exfiltration": "exfiltration",
    "reconnaissance": "recon",
    "discovery": "recon",
}
_LOGSOURCE_FAMILY = {"dns": "dns", "dns_query": "dns", "firewall": "flow", "proxy": "proxy"}
_SOURCE_FAMILY = (
    ("suricata", "ids"),
    ("snort", "ids"),
    ("eve", "ids"),
    ("zeek", "pcap"),
    ("pcap", "pcap"),
    ("dns", "dns"),
    ("firewall", "flow"),
    ("netflow", "flow"),
    ("proxy", "proxy"),
)
# Techniques that are network behaviour whatever the source (C2 channels, exfil, scanning, MitM).
NETWORK_TECHNIQUES = frozenset(
    {"T1008", "T1040", "T1041", "T1046", "T1048", "T1071", "T1090", "T1095", "T1105", "T1132",
     "T1557", "T1568", "T1571", "T1572", "T1573", "T1590", "T1595"}
)  # fmt: skip
_SRC_KEYS = ("src_ip", "source_ip", "id.orig_h", "src")
_DST_KEYS = ("dst_ip", "dest_ip", "destination_ip", "id.resp_h", "dst")
AUTO_CASE_CONFIDENCE = 0.8
AUTO_CASE_SEVERITY = Severity.HIGH

Endpoints = tuple[str | None, str | None]


@dataclass(frozen=True)
class NetworkFacts:
    """One network alert as correlation sees it."""

    alert_id: str
    title: str
    severity: str
    family: str
    src_ip: str | None
    dst_ip: str | None
    category: str
    techniques: tuple[str, ...]
    seen_at: datetime

    @property
    def key(self) -> tuple[str | None, str | None, str]:
        return self.src_ip, self.dst_ip, self.category


def telemetry_family(source: str | None, metadata: Mapping[str, Any] | None) -> str | None:
    """The alert's telemetry family, or None when nothing marks it as network telemetry."""
    meta = metadata or {}
    explicit = str(meta.get("telemetry_family") or "").lower()
    if explicit in FAMILIES:
        return explicit
    if meta.get("passthrough") == "eve":
        return "ids"
    logsource = meta.get("logsource") or {}
    by_category = _LOGSOURCE_FAMILY.get(str(logsource.get("category") or "").lower())
    if by_category:
        return by_category
    name = (source or "").lower()
    return next((family for marker, family in _SOURCE_FAMILY if marker in name), None)


def is_network_technique(tid: str) -> bool:
    return tid.split(".")[0].upper() in NETWORK_TECHNIQUES


def network_family(
    source: str | None, metadata: Mapping[str, Any] | None, techniques: Iterable[str]
) -> str | None:
    """Family of a network alert (``other`` when only a network technique marks it), else None."""
    family = telemetry_family(source, metadata)
    if family is None and any(is_network_technique(t) for t in techniques):
        return "other"
    return family


def category_for(techniques: Iterable[str]) -> str:
    votes: Counter[str] = Counter()
    for tid in techniques:
        votes.update({_TACTIC_CATEGORY[t] for t in attack.tactics_for(tid) if t in _TACTIC_CATEGORY})
    if not votes:
        return "other"
    return max(votes, key=lambda c: (votes[c], -CATEGORIES.index(c)))


def confidence(families: Iterable[str]) -> float:
    """1 - prod(1 - w) over the distinct families (spec §13.8)."""
    misses = [1 - FAMILY_WEIGHTS.get(f, OTHER_WEIGHT) for f in set(families)]
    return round(1 - math.prod(misses), 4) if misses else 0.0


def should_open_case(score: float, severity: str) -> bool:
    return score >= AUTO_CASE_CONFIDENCE and Severity(severity).rank >= AUTO_CASE_SEVERITY.rank


def _ip(value: Any) -> str | None:
    typed = classify_ioc(str(value)) if value not in (None, "") else None
    return typed[1] if typed and typed[0] == "ip" else None


def _first_ip(fields: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    return next((ip for key in keys if (ip := _ip(fields.get(key)))), None)


def _from_raw(raw_log: str | None) -> Endpoints:
    try:
        record = json.loads(raw_log or "")
    except ValueError:
        return None, None
    if not isinstance(record, dict):
        return None, None
    fields = flatten(record)
    return _first_ip(fields, _SRC_KEYS), _first_ip(fields, _DST_KEYS)


def endpoints(
    metadata: Mapping[str, Any] | None,
    raw_log: str | None,
    iocs: Sequence[str],
    log_columns: Endpoints = (None, None),
) -> Endpoints:
    """(src_ip, dst_ip) from the first source that names any of them (see module notes)."""
    meta = metadata or {}
    candidates: list[Endpoints] = [
        (_first_ip(meta, _SRC_KEYS), _first_ip(meta, _DST_KEYS)),
        (_ip(log_columns[0]), _ip(log_columns[1])),
        _from_raw(raw_log),
    ]
    ips = [ip for value in iocs if (ip := _ip(value))]
    candidates.append((ips[0], ips[1]) if len(ips) > 1 else (None, ips[0] if ips else None))
    return next((pair for pair in candidates if pair != (None, None)), (None, None))


def max_severity(*severities: str) -> str:
    return max((Severity(s) for s in severities), key=lambda s: s.rank).value


def title_for(category: str, src_ip: str | None, dst_ip: str | None) -> str:
    return f"{CATEGORY_LABELS[category]} {src_ip or '?'} → {dst_ip or '?'}"


def findings(
    families: Sequence[str], alert_titles: Sequence[str], techniques: Sequence[str], score: float
) -> list[str]:
    """Plain sentences for the case description and the analyst."""
    lines = [
        f"{len(alert_titles)} alert(s) from {', '.join(sorted(families))} telemetry; confidence {score:.2f}",
    ]
    if techniques:
        named = [f"{t} ({', '.join(attack.tactics_for(t)) or 'unknown tactic'})" for t in techniques]
        lines.append("Techniques: " + "; ".join(named))
    lines += [f"Alert: {title}" for title in list(dict.fromkeys(alert_titles))[:10]]
    return lines
