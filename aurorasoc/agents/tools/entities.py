"""Reading entities out of Windows events: the acting process, its parent, the user, and whether
an observable is *common* (spec §27.3) and so never a pivot or a containment target."""

from __future__ import annotations

import re
from typing import Any

from aurorasoc.agents.tools.event_queries import Event
from aurorasoc.intel.extraction import internal_address
from aurorasoc.intel.observables import common_threshold

SYSTEM_DIRS = ("c:\\windows\\", "%systemroot%\\", "\\systemroot\\")
INTEGRITY_SIDS = {
    "S-1-16-4096": "Low",
    "S-1-16-8192": "Medium",
    "S-1-16-12288": "High",
    "S-1-16-16384": "System",
}
HASH = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$")


def process_of(e: Event) -> dict[str, Any] | None:
    """The process an event is about (Sysmon EID 1/10/other, Security 4688), or None."""
    if e.event_id == "4688":
        label = e.get("MandatoryLabel")
        return _compact(
            {
                "image": e.get("NewProcessName"),
                "command_line": e.get("CommandLine"),
                "user": e.get("TargetUserName", "SubjectUserName"),
                "integrity": INTEGRITY_SIDS.get(label or "", label),
                "pid": e.get("NewProcessId"),
                "parent_pid": e.get("ProcessId"),
                "parent_image": e.get("ParentProcessName"),
            }
        )
    image = e.get("Image", "SourceImage")
    if image is None:
        return None
    return _compact(
        {
            "image": image,
            "command_line": e.get("CommandLine"),
            "user": e.get("User") or e.user,
            "integrity": e.get("IntegrityLevel"),
            "guid": e.get("ProcessGuid", "SourceProcessGUID", "SourceProcessGuid"),
            "pid": e.get("ProcessId", "SourceProcessId"),
            "parent_guid": e.get("ParentProcessGuid"),
            "parent_image": e.get("ParentImage"),
            "parent_command_line": e.get("ParentCommandLine"),
        }
    )


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def event_view(e: Event) -> dict[str, Any]:
    """What the model reads of one event: time, ids, entities and the telling fields."""
    keep = (
        "TargetImage",
        "GrantedAccess",
        "TargetFilename",
        "TargetObject",
        "Details",
        "MemberSid",
        "MemberName",
        "TargetUserName",
        "SubjectUserName",
        "LogonType",
        "IpAddress",
        "DestinationIp",
        "DestinationPort",
        "ServiceName",
        "TaskName",
        "ScriptBlockText",
        "c-ip",  # web server logs: the client, and what the server answered
        "sc-status",
    )
    fields = {k: str(e.fields[k])[:300] for k in keep if e.fields.get(k) not in (None, "", "-")}
    view: dict[str, Any] = {
        "event_ref": e.id,
        "time": e.time.isoformat(),
        "event_id": e.event_id,
        "host": e.host,
        "user": e.user,
        "fields": fields,
    }
    if process := process_of(e):
        view["process"] = {k: str(v)[:500] for k, v in process.items()}
    if "process" not in view:  # a logon, a web request: the message says what happened
        view["message"] = e.message[:300]
    return view


def in_system_dir(path: str | None) -> bool:
    return bool(path) and str(path).lower().startswith(SYSTEM_DIRS)


def common_reason(value: str, seen: list[Event], hosts_known: int) -> str | None:
    """Why ``value`` is a common observable (never an indicator), or None when it is not."""
    if internal_address(value):
        return "private, loopback or link-local address"
    if in_system_dir(value) and not re.search(r"\s", value.strip()):
        return "operating-system binary path"
    if HASH.match(value):
        images = {str((process_of(e) or {}).get("image", "")) for e in seen if value.lower() in _hashes(e)}
        if images and all(in_system_dir(i) for i in images):
            return "hash of an operating-system binary"
    hosts = {e.host.lower() for e in seen if e.host}
    if any(value.lower() == h for h in hosts):
        return "the host's own name"
    if len(hosts) >= common_threshold(hosts_known):
        return f"seen on {len(hosts)} of {hosts_known} known hosts"
    return None


def _hashes(e: Event) -> str:
    return str(e.fields.get("Hashes") or e.fields.get("Hash") or "").lower()


def search_token(value: str) -> str:
    """The longest backslash- and quote-free piece of ``value`` (raw records store JSON-escaped text)."""
    pieces = re.split(r'[\\"%_]+', value)
    return max(pieces, key=len) if pieces else value
