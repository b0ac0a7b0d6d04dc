"""Case correlation (spec §14.2): put each new alert into the case it belongs to, or open one.

Matching is pure (:func:`match_reasons`, :func:`pick_best`) so the rules are testable without a
database; :class:`CaseCorrelator` only loads candidates and writes through :class:`CaseService`.

Decisions beyond the spec text:

* A case is compared through its linked alerts (so "same source" means the source of an alert
  already in the case) and through its own ``iocs`` / ``affected_assets`` (cases opened by hand
  have no alerts). A reason found through an alert names that alert in the timeline text.
* Linking goes through ``CaseService.link_alert`` (the uniform ``alert_linked`` entry, merge of
  observables and max severity), followed by the ``alert_correlated`` entry that says why.
* With no matching case, only the best un-cased open alert from the window (most reasons, then
  most recently seen) is pulled into the new case together with the new alert.
* "Alerts that chain ATT&CK tactics on one host": a shared ``host:`` entity already links such
  alerts, so the chain is not a separate matching step but an extra, stronger reason next to the
  shared host (``tactic_chain``, ranked just above ``shared_entity``). It is given when the new
  alert and the peers on that host each map to at least one tactic (bundled ATT&CK index) and
  together cover two or more distinct tactics, listed in kill-chain order in the timeline text.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.lifecycle import FINISHED
from aurorasoc.cases.service import TITLE_MAX, CaseService
from aurorasoc.core import runtime
from aurorasoc.core.config import get_settings
from aurorasoc.core.metrics import CASES_CREATED
from aurorasoc.core.models import AlertModel, CaseModel
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AlertStatus, CaseSource, CaseStatus, Severity
from aurorasoc.intel import attack

ACTOR = "correlator"
ENTITY_PREFIXES = ("host:", "user:", "device:")
CLOSED_ALERT_STATUSES = (AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value)
PEER_SCAN_LIMIT = 500
ReasonKind = Literal["shared_ioc", "tactic_chain", "shared_entity", "shared_technique_source"]
_STRENGTH: dict[str, int] = {
    "shared_ioc": 0,
    "tactic_chain": 1,
    "shared_entity": 2,
    "shared_technique_source": 3,
}
MIN_CHAIN_TACTICS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Facts:
    """What correlation compares: observables, entities, techniques and the alert source."""

    iocs: frozenset[str]
    entities: frozenset[str]
    techniques: frozenset[str]
    source: str | None = None
    alert_id: uuid.UUID | None = None

    @property
    def tactics(self) -> frozenset[str]:
        return frozenset(t for tid in self.techniques for t in attack.tactics_for(tid))

    @classmethod
    def of_alert(cls, alert: AlertModel) -> Facts:
        return cls(
            iocs=frozenset(alert.iocs or []),
            entities=_entities(alert.affected_assets or []),
            techniques=frozenset(alert.mitre_techniques or []),
            source=alert.source,
            alert_id=alert.id,
        )

    @classmethod
    def of_case(cls, found: CaseModel) -> Facts:
        """Case-level observables; no source, so they never give a technique+source reason."""
        return cls(
            iocs=frozenset(found.iocs or []),
            entities=_entities(found.affected_assets or []),
            techniques=frozenset(),
        )


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    value: str
    alert_id: uuid.UUID | None = None

    def describe(self, window_minutes: int) -> str:
        label = {
            "shared_ioc": f"Shared IOC {self.value}",
            "tactic_chain": f"Tactic chain on {self.value}",
            "shared_entity": f"Shared entity {self.value}",
            "shared_technique_source": f"Shared technique and source {self.value}",
        }[self.kind]
        peer = f"alert {self.alert_id}" if self.alert_id else "the case"
        return f"{label} with {peer} within {window_minutes} min"

    def as_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "alert_id": str(self.alert_id) if self.alert_id else None,
        }


@dataclass
class CorrelationResult:
    """What happened to one alert; ``skipped`` says why nothing was done."""

    case_id: uuid.UUID | None = None
    created: bool = False
    reasons: list[Reason] = field(default_factory=list)
    linked_alert_ids: list[uuid.UUID] = field(default_factory=list)
    skipped: str | None = None


def _entities(assets: Iterable[str]) -> frozenset[str]:
    return frozenset(a for a in assets if a.startswith(ENTITY_PREFIXES))


def match_reasons(new: Facts, peers: Sequence[Facts]) -> list[Reason]:
    """Every distinct reason ``new`` shares with ``peers``, strongest first (pure)."""
    found: dict[tuple[str, str], Reason] = {}
    for peer in peers:
        candidates = [Reason("shared_ioc", v, peer.alert_id) for v in sorted(new.iocs & peer.iocs)]
        candidates += [
            Reason("shared_entity", v, peer.alert_id) for v in sorted(new.entities & peer.entities)
        ]
        if new.source is not None and new.source == peer.source:
            shared = sorted(new.techniques & peer.techniques)
            candidates += [
                Reason("shared_technique_source", f"{t}/{new.source}", peer.alert_id) for t in shared
            ]
        for reason in candidates:
            found.setdefault((reason.kind, reason.value), reason)
    chains = tactic_chains(new, peers)
    return sorted([*found.values(), *chains], key=lambda r: _STRENGTH[r.kind])


def tactic_chains(new: Facts, peers: Sequence[Facts]) -> list[Reason]:
    """Per shared host: the kill-chain-ordered tactics of ``new`` and its peers there, if ≥ 2 (pure)."""
    mine = new.tactics
    if not mine:
        return []
    reasons = []
    for host in sorted(e for e in new.entities if e.startswith("host:")):
        on_host = [p for p in peers if host in p.entities and p.tactics]
        chain = attack.kill_chain_order(mine.union(*(p.tactics for p in on_host)))
        if on_host and len(chain) >= MIN_CHAIN_TACTICS:
            value = f"{host}: {' → '.join(chain)}"
            reasons.append(Reason("tactic_chain", value, on_host[0].alert_id))
    return reasons


def pick_best(scored: Sequence[tuple[T, list[Reason], datetime]]) -> tuple[T, list[Reason]] | None:
    """The candidate with the most reasons, then the most recent; None when nothing matched (pure)."""
    matching = [entry for entry in scored if entry[1]]
    if not matching:
        return None
    best = max(matching, key=lambda entry: (len(entry[1]), entry[2]))
    return best[0], best[1]


class CaseCorrelator:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.cases = CaseService(session)
        detection = get_settings().detection
        self.window_minutes = detection.correlation_window_minutes
        self.min_severity = Severity(detection.auto_case_min_severity)

    async def correlate(self, alert: AlertModel) -> CorrelationResult:
        """Link ``alert`` to its best case or open one; flushes, never commits (pipeline write)."""
        if not runtime.write_allowed("pipeline"):
            return CorrelationResult(skipped="mode_blocks_pipeline")
        if alert.case_id is not None:
            return CorrelationResult(case_id=alert.case_id, skipped="already_in_case")
        new = Facts.of_alert(alert)
        cutoff = utcnow() - timedelta(minutes=self.window_minutes)
        best_case = pick_best(await self._score_cases(new, cutoff))
        if best_case is not None:
            target, reasons = best_case
            await self._link(target, alert, reasons)
            return CorrelationResult(case_id=target.id, reasons=reasons, linked_alert_ids=[alert.id])
        best_peer = pick_best(await self._score_peers(alert, new, cutoff))
        if best_peer is None and Severity(alert.severity).rank < self.min_severity.rank:
            return CorrelationResult(skipped="no_match")
        peer, reasons = best_peer or (None, [])
        created = await self._open_case(alert, peer, reasons)
        linked = [alert.id] + ([peer.id] if peer else [])
        return CorrelationResult(case_id=created.id, created=True, reasons=reasons, linked_alert_ids=linked)

    async def _score_cases(
        self, new: Facts, cutoff: datetime
    ) -> list[tuple[CaseModel, list[Reason], datetime]]:
        stmt = (
            select(CaseModel)
            .where(CaseModel.status.not_in([s.value for s in FINISHED]), CaseModel.updated_at >= cutoff)
            .order_by(CaseModel.updated_at.desc())
        )
        candidates = list((await self.session.scalars(stmt)).all())
        if not candidates:
            return []
        members = await self.session.scalars(
            select(AlertModel).where(AlertModel.case_id.in_([c.id for c in candidates]))
        )
        by_case: dict[uuid.UUID, list[Facts]] = {}
        for member in members:
            if member.case_id is not None and member.id != new.alert_id:
                by_case.setdefault(member.case_id, []).append(Facts.of_alert(member))
        return [
            (c, match_reasons(new, [*by_case.get(c.id, []), Facts.of_case(c)]), c.updated_at)
            for c in candidates
        ]

    async def _score_peers(
        self, alert: AlertModel, new: Facts, cutoff: datetime
    ) -> list[tuple[AlertModel, list[Reason], datetime]]:
        stmt = (
            select(AlertModel)
            .where(
                AlertModel.case_id.is_(None),
                AlertModel.id != alert.id,
                AlertModel.status.not_in(CLOSED_ALERT_STATUSES),
                AlertModel.last_seen_at >= cutoff,
            )
            .order_by(AlertModel.last_seen_at.desc())
            .limit(PEER_SCAN_LIMIT)
        )
        peers = (await self.session.scalars(stmt)).all()
        return [(p, match_reasons(new, [Facts.of_alert(p)]), p.last_seen_at) for p in peers]

    async def _link(self, target: CaseModel, alert: AlertModel, reasons: list[Reason]) -> None:
        await self.cases.link_alert(target, alert, ACTOR)
        self._explain(target, alert, reasons)
        await self.session.flush()

    async def _open_case(
        self, alert: AlertModel, peer: AlertModel | None, reasons: list[Reason]
    ) -> CaseModel:
        created = await self.cases.create(
            title=f"Correlated: {alert.title}"[:TITLE_MAX],
            severity=alert.severity,
            actor="system",
            description=alert.description,
            alert_ids=[peer.id, alert.id] if peer else [alert.id],
            source=CaseSource.CORRELATION,
            status=CaseStatus.OPEN,
            details="Auto-created from alert correlation",
        )
        if reasons:
            self._explain(created, alert, reasons)
            await self.session.flush()
        CASES_CREATED.labels(CaseSource.CORRELATION.value).inc()
        return created

    def _explain(self, target: CaseModel, alert: AlertModel, reasons: list[Reason]) -> None:
        """The ``alert_correlated`` entry: the strongest reason in words, all of them in data."""
        data = {"reasons": [r.as_data() for r in reasons], "alert_id": str(alert.id)}
        self.cases._entry(target, "alert_correlated", ACTOR, reasons[0].describe(self.window_minutes), data)
