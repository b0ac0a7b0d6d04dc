"""The case summary an analyst reads first (issue #19 §7), kept current as alerts join.

It is built from the evidence of the case's alerts — hosts, users, techniques with their
tactics, the span in *event* time, the key processes and command lines, the indicators and, apart
from them, notable observables — and stored on the case (``metadata.summary``) with the signature
of the alerts it describes (their ids and last updates). A read whose signature differs —
correlation added an alert, an analyst linked, moved or detached one, a duplicate folded into one —
recomputes it, so no linking path has to remember to invalidate it. A notable observable is never a
common one: observables marked benign (OS binary, private address, own host, allow-listed) and
values seen on many hosts are left out. The text is a deterministic template; with a model
configured, the model words the same facts (and the template stays when it does not answer).
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel
from aurorasoc.core import runtime
from aurorasoc.core.errors import NotFound, ServiceUnavailable
from aurorasoc.core.llm_text import complete_text, model_configured
from aurorasoc.core.types import utcnow
from aurorasoc.intel import attack
from aurorasoc.intel.observables import common_values

KEY = "summary"
TOP = 5
MAX_MODEL_TEXT = 4_000
TEXT_COMMAND_CHARS = 200  # a command line in the summary's sentence; ``processes`` keeps it whole
MODEL_PROMPT = (
    "You are the case summary agent. From the JSON facts of a security case, write at most five plain "
    "sentences for a SOC analyst: what happened, on which hosts, as which users, when (event time), "
    "which techniques and tactics, which processes and command lines, which indicators. Use only the "
    "facts given; never name an indicator that is not listed."
)


MAX_CASE_ALERTS = 5_000


def top_values(values: Iterable[str | None], limit: int = TOP) -> list[str]:
    return [v for v, _ in Counter(v for v in values if v).most_common(limit)]


def tactic_chain(alerts: list[AlertModel]) -> list[str]:
    """The tactics the case's techniques belong to, in kill-chain order."""
    tactics = {t for a in alerts for tid in a.mitre_techniques or [] for t in attack.tactics_for(tid)}
    return list(attack.kill_chain_order(frozenset(tactics)))


async def case_alerts(session: AsyncSession, case_id: uuid.UUID) -> list[AlertModel]:
    """The case's alerts in event-time order (bounded: a case is read whole by its views)."""
    stmt = (
        select(AlertModel)
        .where(AlertModel.case_id == case_id)
        .order_by(AlertModel.first_seen_at)
        .limit(MAX_CASE_ALERTS)
    )
    return list((await session.scalars(stmt)).all())


def _techniques(alerts: list[AlertModel]) -> list[dict[str, Any]]:
    ids = top_values((t for a in alerts for t in a.mitre_techniques or []), 20)
    out = []
    for tid in ids:
        found = attack.lookup(tid)
        out.append({"id": tid, "name": found.name if found else None, "tactics": attack.tactics_for(tid)})
    return out


def _processes(alerts: list[AlertModel]) -> list[dict[str, Any]]:
    """The most frequent (executable, command line) pairs, with the parent that started them."""
    pairs = Counter(
        (
            e.get("process.executable") or a.process_executable,
            e.get("process.command_line"),
            e.get("process.parent.executable"),
        )
        for a in alerts
        if (e := a.entities or {}).get("process.executable") or a.process_executable
    )
    return [
        {"executable": exe, "command_line": cmd, "parent": parent}
        for (exe, cmd, parent), _ in pairs.most_common(TOP)
    ]


async def _indicators(session: AsyncSession, alerts: list[AlertModel]) -> tuple[list[str], list[str]]:
    """The alerts' indicators, and apart from them the observables not marked benign and not
    common: an observable is not an indicator until intel, an analyst or a rule says so (§27.3)."""
    confirmed = top_values((v for a in alerts for v in a.iocs or []), TOP)
    candidates = [
        str(o.get("value"))
        for a in alerts
        for o in a.observables or []
        if isinstance(o, dict) and o.get("value") and not o.get("benign") and o.get("type") != "user"
    ]
    common = await common_values(session, candidates)
    rest = [v for v in top_values(candidates, 50) if v not in common and v not in confirmed]
    return confirmed, rest[:TOP]


def _technique_text(t: dict[str, Any]) -> str:
    name = f"{t['id']} {t['name']}" if t["name"] else t["id"]
    return f"{name} ({', '.join(t['tactics']) or 'no known tactic'})"


def _process_text(proc: dict[str, Any]) -> str:
    """The narrative clips a long command line (whole in ``processes``): seen on the EVTX samples,
    a PsExec child's arguments were hundreds of unprintable characters that buried the summary."""
    line = f"Process {proc['executable']}"
    line += f" (parent {proc['parent']})" if proc["parent"] else ""
    command = proc["command_line"]
    command = command and textwrap.shorten(command, TEXT_COMMAND_CHARS, placeholder=" …")
    return line + (f": {command}." if command else ".")


def _where(facts: dict[str, Any]) -> str:
    """Hosts; for alerts that name none (web-server logs), the clients they came from."""
    if facts["hosts"]:
        return f"on {', '.join(facts['hosts'])}"
    if facts.get("source_addresses"):
        return f"from {', '.join(facts['source_addresses'])} (no host named)"
    return "on no named host"


def _text(facts: dict[str, Any]) -> str:
    """One paragraph from the facts (deterministic), in the order an analyst asks."""
    if not facts["alert_count"]:
        return "No alerts in this case yet."
    start, end = facts["event_time_start"], facts["event_time_end"]
    when = f" from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC (event time)" if start and end else ""
    who = f", as {', '.join(facts['users'])}" if facts["users"] else ""
    parts = [f"{facts['alert_count']} alert(s){when} {_where(facts)}{who}."]
    if facts["techniques"]:
        parts.append("Techniques: " + "; ".join(_technique_text(t) for t in facts["techniques"]) + ".")
    if facts["tactic_chain"]:
        parts.append("Tactics in kill-chain order: " + " → ".join(facts["tactic_chain"]) + ".")
    parts.extend(_process_text(p) for p in facts["processes"][:3])
    if facts["indicators"]:
        parts.append("Indicators: " + ", ".join(facts["indicators"]) + ".")
    if facts["observables"]:
        parts.append("Notable observables (not indicators): " + ", ".join(facts["observables"]) + ".")
    return " ".join(parts)


async def compute(
    session: AsyncSession, case: CaseModel, alerts: list[AlertModel] | None = None
) -> dict[str, Any]:
    """The summary of the case's alerts as they are now (offline template); the one paragraph every
    view of the case (page, evidence panel, PDF reports) shows."""
    if alerts is None:
        alerts = await case_alerts(session, case.id)
    start: datetime | None = min((a.first_seen_at for a in alerts if a.first_seen_at), default=None)
    end: datetime | None = max((a.last_seen_at for a in alerts if a.last_seen_at), default=None)
    facts: dict[str, Any] = {
        "alert_count": len(alerts),
        "event_time_start": start,
        "event_time_end": end,
        "hosts": top_values(a.host for a in alerts),
        "users": top_values(a.user_name for a in alerts),
        "source_addresses": top_values(a.src_ip for a in alerts if not a.host),
        "techniques": _techniques(alerts),
        "tactic_chain": tactic_chain(alerts),
        "processes": _processes(alerts),
    }
    facts["indicators"], facts["observables"] = await _indicators(session, alerts)
    return {**facts, "text": _text(facts), "backend": "offline"}


async def with_model_text(summary: dict[str, Any]) -> dict[str, Any]:
    """The model's wording of the same facts when one is configured; the offline text otherwise or
    when the model gives no answer (``model_error`` says why)."""
    if not model_configured() or not summary["alert_count"]:
        return summary
    facts = {k: v for k, v in summary.items() if k not in ("text", "backend")}
    try:
        text = await complete_text(MODEL_PROMPT, json.dumps(facts, default=str))
    except ServiceUnavailable as exc:
        return {**summary, "model_error": exc.message}
    return {**summary, "text": text[:MAX_MODEL_TEXT], "backend": "model"}


# Part of the signature: a summary stored by an older version of the facts is recomputed on read
# (v2: notable observables apart from the indicators; v3: the client addresses of hostless alerts).
FACTS_VERSION = "v3"


async def signature(session: AsyncSession, case_id: uuid.UUID) -> str:
    """Which alerts, in which state, the case holds now (one narrow indexed query)."""
    stmt = select(AlertModel.id, AlertModel.updated_at).where(AlertModel.case_id == case_id)
    rows = sorted(f"{i}:{u.isoformat() if u else ''}" for i, u in (await session.execute(stmt)).all())
    return hashlib.sha256("\n".join([FACTS_VERSION, *rows]).encode()).hexdigest()


class CaseSummaryService:
    """Read a case's summary, recomputing it when its alerts changed since it was stored."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, case_id: uuid.UUID) -> dict[str, Any]:
        """The stored summary when it still describes the case's alerts, else a fresh one (stored
        unless the mode forbids pipeline writes)."""
        case = await self.session.get(CaseModel, case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist", case_id=str(case_id))
        stored = (case.metadata_ or {}).get(KEY)
        sig = await signature(self.session, case_id)
        if stored and stored.get("signature") == sig:
            return dict(stored)
        fresh = await with_model_text(await compute(self.session, case))
        stored = {
            **fresh,
            "event_time_start": _iso(fresh["event_time_start"]),
            "event_time_end": _iso(fresh["event_time_end"]),
            "computed_at": utcnow().isoformat(),
            "signature": sig,
        }
        if runtime.write_allowed("pipeline"):  # a derived record, stored like pipeline output
            # Keep updated_at: reading a case is not changing it (the list sorts by it; opening a
            # case moved it to the top of "Updated").
            metadata = {**(case.metadata_ or {}), KEY: stored}
            keep = update(CaseModel).where(CaseModel.id == case.id)
            await self.session.execute(
                keep.values({CaseModel.metadata_: metadata, CaseModel.updated_at: CaseModel.updated_at})
            )
            await self.session.commit()
        return dict(stored)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
