"""Derive the Sigma logsource ``(product, category, service)`` of a normalised event (spec §13.2).

SigmaHQ rules are indexed by logsource; these functions give every event the same vocabulary so the
engine can pick candidate rules. ``derive_logsource`` returns the primary triple; ``categories_for`` and
``services_for`` return every name a rule may use for the same event (``registry_set`` for Sysmon 13, both
``powershell`` and ``powershell-classic`` for the classic PowerShell channel, ``auth`` for syslog auth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Logsource = tuple[str | None, str | None, str | None]

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"
WINDOWS_FORMATS = frozenset({"evtx", "json"})

SYSMON_CATEGORIES: dict[int, str] = {
    1: "process_creation",
    2: "file_change",
    3: "network_connection",
    4: "sysmon_status",
    5: "process_termination",
    6: "driver_load",
    7: "image_load",
    8: "create_remote_thread",
    9: "raw_access_thread",
    10: "process_access",
    11: "file_event",
    12: "registry_event",
    13: "registry_event",
    14: "registry_event",
    15: "create_stream_hash",
    16: "sysmon_status",
    17: "pipe_created",
    18: "pipe_created",
    19: "wmi_event",
    20: "wmi_event",
    21: "wmi_event",
    22: "dns_query",
    23: "file_delete",
    25: "process_tampering",
    26: "file_delete",
    29: "file_executable_detected",
    255: "sysmon_error",
}

# Registry sub-categories: Sysmon 12 is add or delete depending on EventType, 13 set, 14 rename.
_REGISTRY_EXTRA: dict[int, frozenset[str]] = {
    12: frozenset({"registry_add", "registry_delete"}),
    13: frozenset({"registry_set"}),
    14: frozenset({"registry_rename"}),
}
_REGISTRY_EVENT_TYPE = {
    "createkey": "registry_add",
    "deletekey": "registry_delete",
    "deletevalue": "registry_delete",
}

# Channel (lower-cased) → SigmaHQ `service:` name, from the services used under rules/windows.
CHANNEL_SERVICES: dict[str, str] = {
    "security": "security",
    "system": "system",
    "application": "application",
    SYSMON_CHANNEL: "sysmon",
    "microsoft-windows-powershell/operational": "powershell",
    "windows powershell": "powershell-classic",
    "powershellcore/operational": "powershell",
    "microsoft-windows-taskscheduler/operational": "taskscheduler",
    "microsoft-windows-windows defender/operational": "windefend",
    "microsoft-windows-dns-client/operational": "dns-client",
    "microsoft-windows-dns client events/operational": "dns-client",
    "microsoft-windows-bits-client/operational": "bits-client",
    "microsoft-windows-wmi-activity/operational": "wmi",
    "microsoft-windows-codeintegrity/operational": "codeintegrity-operational",
    "microsoft-windows-ntlm/operational": "ntlm",
    "microsoft-windows-windows firewall with advanced security/firewall": "firewall-as",
    "microsoft-windows-appxdeploymentserver/operational": "appxdeployment-server",
    "microsoft-windows-appxpackaging/operational": "appxpackaging-om",
    "microsoft-windows-appmodel-runtime/admin": "appmodel-runtime",
    "msexchange management": "msexchange-management",
    "microsoft-iis-configuration/operational": "iis-configuration",
    "microsoft-windows-security-mitigations/kernel mode": "security-mitigations",
    "microsoft-windows-security-mitigations/user mode": "security-mitigations",
    "microsoft-windows-terminalservices-localsessionmanager/operational": (
        "terminalservices-localsessionmanager"
    ),
    "microsoft-windows-smbclient/security": "smbclient-security",
    "microsoft-windows-smbclient/connectivity": "smbclient-connectivity",
    "microsoft-windows-smbserver/connectivity": "smbserver-connectivity",
    "microsoft-windows-printservice/admin": "printservice-admin",
    "microsoft-windows-printservice/operational": "printservice-operational",
    "microsoft-windows-lsa/operational": "lsa-server",
    "microsoft-windows-capi2/operational": "capi2",
    "microsoft-windows-shell-core/operational": "shell-core",
    "microsoft-windows-driverframeworks-usermode/operational": "driver-framework",
    "microsoft-windows-diagnosis-scripted/operational": "diagnosis-scripted",
    "microsoft-windows-ldap-client/debug": "ldap",
    "microsoft-windows-dns-server/analytical": "dns-server-analytic",
    "dns server": "dns-server",
    "openssh/operational": "openssh",
    "microsoft-windows-certificateservicesclient-lifecycle-system/operational": (
        "certificateservicesclient-lifecycle-system"
    ),
}

# Non-Sysmon Windows categories by (service, EventID).
_WINDOWS_CATEGORIES: dict[tuple[str, int], str] = {
    ("powershell", 4104): "ps_script",
    ("powershell", 4103): "ps_module",
    ("powershell-classic", 400): "ps_classic_start",
    ("powershell-classic", 600): "ps_classic_provider_start",
    ("powershell-classic", 800): "ps_classic_script",
    ("security", 4688): "process_creation",
}

_EVE_CATEGORIES = {"dns": "dns", "http": "proxy", "flow": "firewall"}
_ZEEK_CATEGORIES = {"dns": "dns", "http": "proxy", "conn": "firewall"}
_AUTH_FACILITIES = frozenset({"auth", "authpriv"})


def _windows_service(channel: str) -> str | None:
    key = channel.lower()
    service = CHANNEL_SERVICES.get(key)
    if service is not None:
        return service
    if key.startswith("microsoft-windows-applocker/"):
        return "applocker"
    return None


def _event_id(fields: Mapping[str, Any]) -> int | None:
    value = fields.get("EventID")
    if isinstance(value, int):
        return value
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _windows(fields: Mapping[str, Any]) -> Logsource:
    channel = str(fields.get("Channel") or "")
    service = _windows_service(channel)
    eid = _event_id(fields)
    if eid is None:
        return "windows", None, service
    if service == "sysmon":
        return "windows", SYSMON_CATEGORIES.get(eid), service
    return "windows", _WINDOWS_CATEGORIES.get((service or "", eid)), service


def _syslog(fields: Mapping[str, Any]) -> Logsource:
    if "audit_serial" in fields:  # an audit record forwarded over syslog
        return "linux", None, "auditd"
    program = fields.get("program")
    service = str(program).lower() if program else None
    if service is None and fields.get("facility") in _AUTH_FACILITIES:
        service = "auth"
    return "linux", None, service


def _cef(fields: Mapping[str, Any]) -> Logsource:
    vendor = str(fields.get("deviceVendor") or "").strip()
    product_name = str(fields.get("deviceProduct") or "").strip()
    product = "_".join(p for p in (vendor, product_name) if p).lower().replace(" ", "_") or None
    hint = f"{product or ''} {fields.get('name') or ''}".lower()
    category = "firewall" if "act" in fields or "firewall" in hint else None
    return product, category, None


def derive_logsource(fields: Mapping[str, Any], format: str) -> Logsource:
    """Primary ``(product, category, service)`` for an event of ``format`` with normalised ``fields``."""
    if format in WINDOWS_FORMATS and fields.get("Channel"):
        return _windows(fields)
    if format == "syslog":
        return _syslog(fields)
    if format == "auditd":
        return "linux", None, "auditd"
    if format in ("weblog", "w3c"):
        return None, "webserver", None
    if format == "eve":
        return "suricata", _EVE_CATEGORIES.get(str(fields.get("event_type"))), None
    if format == "zeek":
        path = fields.get("_path")
        return "zeek", _ZEEK_CATEGORIES.get(str(path)), str(path) if path else None
    if format == "cef":
        return _cef(fields)
    return None, None, None


def categories_for(fields: Mapping[str, Any], format: str) -> set[str]:
    """Every category a Sigma rule may name for this event (e.g. ``registry_event`` and ``registry_set``)."""
    _, category, service = derive_logsource(fields, format)
    if category is None:
        return set()
    result = {category}
    if service == "sysmon" and category == "registry_event":
        eid = _event_id(fields) or 0
        specific = _REGISTRY_EVENT_TYPE.get(str(fields.get("EventType") or "").lower())
        result |= {specific} if eid == 12 and specific else _REGISTRY_EXTRA.get(eid, frozenset())
    return result


def services_for(fields: Mapping[str, Any], format: str) -> set[str]:
    """Every service a Sigma rule may name for this event (adds ``auth``/``powershell`` aliases)."""
    _, _, service = derive_logsource(fields, format)
    result = {service} if service else set()
    if service == "powershell-classic":
        result.add("powershell")
    if format == "syslog" and fields.get("facility") in _AUTH_FACILITIES:
        result.add("auth")
    return result
