"""What a transcript of tool calls established, gathered in one place for the report.

Only successful tool results count; each item keeps the tool call it came from
(``alert_events#1``) so a statement can cite both the call and the stored events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aurorasoc.agents.llm import ToolExchange

Sourced = tuple[str, dict[str, Any]]  # (tool call id, result)


@dataclass
class Evidence:
    alert: dict[str, Any] | None = None
    anchors: list[dict[str, Any]] = field(default_factory=list)
    around: list[dict[str, Any]] = field(default_factory=list)
    techniques: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, list[Sourced]] = field(default_factory=dict)  # tool name → results
    sources: dict[str, str] = field(default_factory=dict)  # "anchors"/"technique:<id>" → call id

    def of(self, tool: str) -> list[Sourced]:
        return self.results.get(tool, [])

    @property
    def anchor_refs(self) -> list[str]:
        return [a["event_ref"] for a in self.anchors]

    @property
    def host(self) -> str | None:
        return next((a["host"] for a in self.anchors if a.get("host")), None)

    @property
    def process(self) -> dict[str, Any]:
        return next((a["process"] for a in self.anchors if a.get("process")), {})

    @property
    def user(self) -> str | None:
        for a in self.anchors:
            fields = a.get("fields", {})
            user = a.get("process", {}).get("user") or a.get("user") or fields.get("SubjectUserName")
            if user:
                return str(user)
        return None

    @property
    def first_time(self) -> str | None:
        return self.anchors[0]["time"] if self.anchors else None

    @property
    def iocs(self) -> list[str]:
        return list((self.alert or {}).get("iocs", []))

    @property
    def common(self) -> set[str]:
        """Values a tool reported as common observables (never pivots, never targets)."""
        found = {
            str(r["value"]).lower()
            for tool in ("where_else", "prevalence")
            for _, r in self.of(tool)
            if r.get("common")
        }
        return found


def gather(transcript: list[ToolExchange]) -> Evidence:
    out = Evidence()
    counts: dict[str, int] = {}
    for ex in transcript:
        counts[ex.name] = counts.get(ex.name, 0) + 1
        if ex.result.get("status") not in ("ok", "approval_required"):
            continue
        source = f"{ex.name}#{counts[ex.name]}"
        out.results.setdefault(ex.name, []).append((source, ex.result))
        if ex.name == "search_alerts" and out.alert is None and ex.result.get("alerts"):
            out.alert = ex.result["alerts"][0]
        elif ex.name == "alert_events" and not out.anchors:
            out.anchors, out.around = ex.result.get("anchors", []), ex.result.get("around", [])
            out.sources["anchors"] = source
        elif ex.name in ("mitre_map", "mitre_attack_lookup"):
            tech = ex.result["technique"]
            out.techniques.setdefault(tech["id"], tech)
            out.sources.setdefault(f"technique:{tech['id']}", source)
    return out
