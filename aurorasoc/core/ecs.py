"""Entities of a normalised event, under ECS-style names (spec §27.2).

Every parser's flattened fields go through one table of candidate keys per entity, first non-empty value
wins: Sysmon/Security EVTX (``Image``, ``ProcessGuid``, ``NewProcessName``), Winlogbeat/ECS dotted keys,
Defender (``Process Name``), Suricata EVE, Zeek, CEF and syslog. ``user.name`` keeps its domain
(``DOMAIN\\user``) when the record gives one, so the same account on two domains stays two users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY = frozenset({"", "-", "N/A", "0x0"})
# Accounts every Windows host has: sharing one says nothing about an intrusion, and their activity
# is the system's, not a person's.
SERVICE_ACCOUNTS = frozenset(
    {"system", "local service", "network service", "localservice", "networkservice", "anonymous logon", "-"}
)


def is_service_account(user: str) -> bool:
    """``NT AUTHORITY\\SYSTEM``, ``LOCAL SERVICE``, a machine account (``WS01$``): not a person."""
    name = user.rsplit("\\", 1)[-1].strip().lower()
    return name in SERVICE_ACCOUNTS or name.endswith("$")


# Last in their lists: the W3C names web server logs use (c-ip the client, s-ip/s-port the server).
ENTITY_KEYS: dict[str, tuple[str, ...]] = {
    "host.name": ("Computer", "host.name", "hostname", "host", "dvchost", "dhost"),
    "process.executable": (
        "Image", "NewProcessName", "process.executable", "ProcessName", "Process Name", "exe", "SourceImage",
    ),
    "process.command_line": ("CommandLine", "process.command_line", "cmdline"),
    "process.pid": ("ProcessId", "NewProcessId", "process.pid", "pid"),
    "process.entity_id": ("ProcessGuid", "process.entity_id", "SourceProcessGuid"),
    "process.parent.executable": ("ParentImage", "ParentProcessName", "process.parent.executable"),
    "process.parent.command_line": ("ParentCommandLine", "process.parent.command_line"),
    "process.parent.pid": ("ParentProcessId", "process.parent.pid", "ppid"),
    "process.parent.entity_id": ("ParentProcessGuid", "process.parent.entity_id"),
    "source.ip": (
        "src_ip", "SourceIp", "IpAddress", "id.orig_h", "source.ip", "src", "SourceAddress", "c-ip",
    ),
    "source.port": ("src_port", "SourcePort", "IpPort", "id.orig_p", "source.port", "spt"),
    "destination.ip": (
        "dest_ip", "DestinationIp", "id.resp_h", "destination.ip", "dst", "DestAddress", "s-ip",
    ),
    "destination.port": ("dest_port", "DestinationPort", "id.resp_p", "destination.port", "dpt", "s-port"),
    "file.path": ("TargetFilename", "file.path", "ImageLoaded", "FileName", "fname", "Path"),
    "registry.path": ("TargetObject", "registry.path", "ObjectName"),
    "dns.question.name": ("QueryName", "dns.question.name", "dns.rrname", "query"),
    "url.full": ("url.full", "url", "http.url", "request"),
}  # fmt: skip
_USER_KEYS = ("SubjectUserName", "TargetUserName", "User", "user.name", "suser", "duser", "user", "username")
# Logon/authentication events name the account in Target*; elsewhere (e.g. 4732 "member added to a group")
# Target* is the object acted on and Subject* the acting account.
_TARGET_IS_ACCOUNT = frozenset({4624, 4625, 4634, 4647, 4648, 4768, 4769, 4771, 4776, 4778, 4779})
_DOMAIN_FOR = {"TargetUserName": "TargetDomainName", "SubjectUserName": "SubjectDomainName"}
# Columns of siem_logs / alerts that hold an entity (ECS name → column name).
ENTITY_COLUMNS: dict[str, str] = {
    "host.name": "host",
    "user.name": "user_name",
    "source.ip": "src_ip",
    "destination.ip": "dst_ip",
    "process.executable": "process_executable",
    "process.command_line": "process_command_line",
    "process.entity_id": "process_entity_id",
    "process.parent.executable": "parent_executable",
    "process.parent.command_line": "parent_command_line",
    "process.parent.entity_id": "parent_entity_id",
}


def _usable(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list) and str(value).strip() not in _EMPTY


def _user(fields: Mapping[str, Any]) -> str | None:
    """The acting account: a logon's target before its subject, machine accounts (``HOST$``) last."""
    fallback = None
    keys = _USER_KEYS
    if fields.get("EventID") in _TARGET_IS_ACCOUNT:
        keys = ("TargetUserName", "SubjectUserName", *_USER_KEYS[2:])
    for key in keys:
        value = fields.get(key)
        if not _usable(value):
            continue
        name = str(value).strip()
        domain = fields.get(_DOMAIN_FOR.get(key, ""))
        if "\\" not in name and _usable(domain):
            name = f"{domain}\\{name}"
        if not name.endswith("$"):
            return name
        fallback = fallback or name
    return fallback


def _clean(entity: str, value: Any) -> Any:
    text = str(value).strip()
    if entity == "file.path" and text.startswith("file:_"):  # Defender's "Path" prefix
        return text.removeprefix("file:_")
    if entity.endswith((".pid", ".port")):
        try:
            return int(text, 0)
        except ValueError:
            return None
    return text


def extract_entities(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The event's entities as ``{ecs_name: value}``; absent ones are left out."""
    found: dict[str, Any] = {}
    for entity, keys in ENTITY_KEYS.items():
        for key in keys:
            value = fields.get(key)
            if value is not None and _usable(value):  # most keys are absent: skip the call (hot path)
                cleaned = _clean(entity, value)
                if cleaned is not None:
                    found[entity] = cleaned
                    break
    if (user := _user(fields)) is not None:
        found["user.name"] = user
    return found
