"""Process trees from process-creation events: Sysmon EID 1 links by ProcessGuid, Security 4688
by process id (ids are reused, so a pid resolves to the latest creation before the child)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aurorasoc.agents.tools.entities import process_of
from aurorasoc.agents.tools.event_queries import Event

MAX_DEPTH = 12
MAX_CHILDREN = 30


def _node(e: Event, proc: dict[str, Any]) -> dict[str, Any]:
    return {"event_ref": e.id, "time": e.time.isoformat(), **{k: str(v)[:500] for k, v in proc.items()}}


class _Index:
    def __init__(self, created: list[Event]) -> None:
        self.procs = [(e, p) for e in created if (p := process_of(e))]
        self.by_guid = {p["guid"].lower(): (e, p) for e, p in self.procs if p.get("guid")}

    def find(
        self, guid: str | None, pid: str | None, before: datetime
    ) -> tuple[Event, dict[str, Any]] | None:
        if guid:
            return self.by_guid.get(guid.lower())
        if not pid:
            return None
        hits = [(e, p) for e, p in self.procs if _same_pid(p.get("pid"), pid) and e.time <= before]
        return hits[-1] if hits else None

    def children(self, e: Event, proc: dict[str, Any]) -> list[tuple[Event, dict[str, Any]]]:
        if proc.get("guid"):
            guid = proc["guid"].lower()
            return [(c, p) for c, p in self.procs if str(p.get("parent_guid", "")).lower() == guid]
        return [
            (c, p)
            for c, p in self.procs
            if c.time >= e.time and _same_pid(p.get("parent_pid"), proc.get("pid")) and "guid" not in p
        ]


def _same_pid(a: object, b: object) -> bool:
    """4688 writes ids in hex (``0x1a2b``), Sysmon in decimal."""
    if a is None or b is None:
        return False

    def num(v: object) -> int | None:
        text = str(v).strip().lower()
        try:
            return int(text, 16) if text.startswith("0x") else int(text)
        except ValueError:
            return None

    return num(a) is not None and num(a) == num(b)


def build_tree(created: list[Event], guid: str | None, pid: str | None, around: datetime) -> dict[str, Any]:
    """``{process, ancestors (nearest first), children}``; an ancestor that is only named by its
    child's record (its creation is not stored) ends the chain with ``"stored": False``."""
    index = _Index(created)
    found = index.find(guid, pid, around)
    if found is None:
        return {"process": None, "ancestors": [], "children": [], "note": "process creation not stored"}
    event, proc = found
    ancestors: list[dict[str, Any]] = []
    current = found
    for _ in range(MAX_DEPTH):
        child_event, child = current
        parent = index.find(
            child.get("parent_guid"), None if child.get("guid") else child.get("parent_pid"), child_event.time
        )
        if parent is None:
            if child.get("parent_image"):
                ancestors.append(
                    {
                        "image": child["parent_image"],
                        "command_line": child.get("parent_command_line"),
                        "guid": child.get("parent_guid"),
                        "stored": False,
                    }
                )
            break
        ancestors.append(_node(*parent))
        current = parent
    children = [_node(c, p) for c, p in index.children(event, proc)][:MAX_CHILDREN]
    return {"process": _node(event, proc), "ancestors": ancestors, "children": children}
