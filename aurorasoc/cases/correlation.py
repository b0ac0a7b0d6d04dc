"""Case correlation (spec §14.2, revised by §27.4): put each new alert into its case, or open one.

Matching is pure (:func:`match_reasons`, :func:`pick_best`) so the rules are testable without a
database; :class:`CaseCorrelator` only looks candidates up and writes through :class:`CaseService`.

* Time is event time: a peer alert is a candidate when its event-time span (``first_seen_at`` to
  ``last_seen_at``) comes within the correlation window of the new alert's span; when either was
  ingested does not matter.
* An alert joins through a shared host or user (the indexed ``alerts.host`` / ``alerts.user_name``
  columns, case-insensitive), a shared indicator (``alert_iocs``; never a *common* one, see
  ``services.observables``), or an ATT&CK tactic progression on the same host (``tactic_chain``,
  ranked above the plain host match). Sharing only a technique, a log source or an observable that is
  not an indicator never links. Built-in service accounts (SYSTEM, LOCAL SERVICE, machine accounts
  ``HOST$``…) are not users for this purpose: every Windows host has them.
* The look-up is one bounded, indexed query per alert (``PEER_SCAN_LIMIT`` newest peers), never a
  load of every open case. A case is therefore found through its alerts; a hand-made case without
  alerts is not a candidate.
* Linking goes through ``CaseService.link_alert`` followed by the ``alert_correlated`` entry that
  records every reason (kind, value, peer alert). With no matching case, only the best un-cased
  peer (most reasons, then most recently seen) is pulled into the new case with the new alert.
* Correlation never moves an alert someone else placed in a case: before writing, the alerts it
  would place are claimed (:meth:`CaseCorrelator._claim`), a conditional ``UPDATE … WHERE case_id
  IS NULL`` that sees a link committed by an analyst (promotion, manual link) and, on PostgreSQL,
  locks the rows until the pipeline commits, so no link can interleave.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.lifecycle import FINISHED
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import TITLE_MAX, CaseService
from aurorasoc.core import runtime
from aurorasoc.core.config import get_settings
from aurorasoc.core.metrics import CASES_CREATED
from aurorasoc.core.vocabulary import AlertStatus, CaseSource, CaseStatus, Severity
from aurorasoc.intel import attack
from aurorasoc.intel.models import AlertIOCModel, IOCModel
from aurorasoc.intel.observables import common_values

ACTOR = "correlator"
ENTITY_PREFIXES = ("host:", "user:", "device:")
CLOSED_ALERT_STATUSES = (AlertStatus.RESOLVED.value, AlertStatus.FALSE_POSITIVE.value)
PEER_SCAN_LIMIT = 500
ReasonKind = Literal["shared_ioc", "tactic_chain", "shared_entity"]
_STRENGTH: dict[str, int] = {"shared_ioc": 0, "tactic_chain": 1, "shared_entity": 2}
MIN_CHAIN_TACTICS = 2
# Accounts every Windows host has: sharing one says nothing about an intrusion.
SERVICE_ACCOUNTS = frozenset(
    {"system", "local service", "network service", "localservice", "networkservice", "anonymous logon", "-"}
)
T = TypeVar("T")


@dataclass(frozen=True)
class Facts:
    """What correlation compares: indicators, entities (``host:``/``user:``, lower-case) and techniques."""

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
        assets = [*(alert.affected_assets or [])]
        assets += [f"host:{alert.host}"] if alert.host else []
        assets += [f"user:{alert.user_name}"] if alert.user_name else []
        return cls(
            iocs=frozenset(alert.iocs or []),
            entities=_entities(assets),
            techniques=frozenset(alert.mitre_techniques or []),
            source=alert.source,
            alert_id=alert.id,
        )


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    value: str
    alert_id: uuid.UUID | None = None

    def describe(self, window_minutes: int) -> str:
        label = {
            "shared_ioc": f"Shared indicator {self.value}",
            "tactic_chain": f"Tactic chain on {self.value}",
            "shared_entity": f"Shared entity {self.value}",
        }[self.kind]
        peer = f"alert {self.alert_id}" if self.alert_id else "the case"
        return f"{label} with {peer} within {window_minutes} min of event time"

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


def _is_service_account(user: str) -> bool:
    name = user.rsplit("\\", 1)[-1].strip().lower()
    return name in SERVICE_ACCOUNTS or name.endswith("$")


def _entities(assets: Iterable[str]) -> frozenset[str]:
    out = set()
    for asset in assets:
        kind, _, value = asset.partition(":")
        if asset.startswith(ENTITY_PREFIXES) and not (kind == "user" and _is_service_account(value)):
            out.add(asset)
    return frozenset(out)


def _shared(mine: frozenset[str], theirs: frozenset[str]) -> list[str]:
    """Entities in both, case-insensitively (``host:WS01`` is ``host:ws01``), named as in ``mine``."""
    lowered = {e.lower() for e in theirs}
    return sorted(e for e in mine if e.lower() in lowered)


def match_reasons(new: Facts, peers: Sequence[Facts], common: frozenset[str] = frozenset()) -> list[Reason]:
    """Every distinct reason ``new`` shares with ``peers``, strongest first (pure).

    ``common`` indicators (seen on many hosts) never count.
    """
    found: dict[tuple[str, str], Reason] = {}
    for peer in peers:
        shared = sorted((new.iocs & peer.iocs) - common)
        candidates = [Reason("shared_ioc", v, peer.alert_id) for v in shared]
        candidates += [
            Reason("shared_entity", v, peer.alert_id) for v in _shared(new.entities, peer.entities)
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
        on_host = [p for p in peers if _shared(frozenset({host}), p.entities) and p.tactics]
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
        peers = await self._peers(alert, new)
        common = await self._common(new, peers)
        best_case = pick_best(await self._score_cases(new, peers, common))
        if best_case is not None:
            target, reasons = best_case
            if not await self._claim(alert):
                return CorrelationResult(case_id=alert.case_id, skipped="already_in_case")
            await self._link(target, alert, reasons)
            return CorrelationResult(case_id=target.id, reasons=reasons, linked_alert_ids=[alert.id])
        loose = [p for p in peers if p.case_id is None]
        best_peer = pick_best(
            [(p, match_reasons(new, [Facts.of_alert(p)], common), p.last_seen_at) for p in loose]
        )
        peer, reasons = best_peer or (None, [])
        if peer is None and self._too_low(alert):
            return CorrelationResult(skipped="no_match")
        if not await self._claim(alert, *([peer] if peer else [])):
            return CorrelationResult(case_id=alert.case_id, skipped="already_in_case")
        if peer is not None and peer.case_id is not None:
            peer, reasons = None, []  # placed in a case meanwhile: the new case opens without it
            if self._too_low(alert):
                return CorrelationResult(skipped="no_match")
        created = await self._open_case(alert, peer, reasons)
        linked = [alert.id] + ([peer.id] if peer else [])
        return CorrelationResult(case_id=created.id, created=True, reasons=reasons, linked_alert_ids=linked)

    @staticmethod
    def _lookups(new: Facts) -> list[ColumnElement[bool]]:
        """One indexed condition per entity kind and one for the alert's indicators."""
        hosts = [e[5:].lower() for e in new.entities if e.startswith("host:")]
        users = [e[5:].lower() for e in new.entities if e.startswith("user:")]
        conditions: list[ColumnElement[bool]] = []
        if hosts:
            conditions.append(func.lower(AlertModel.host).in_(hosts))
        if users:
            conditions.append(func.lower(AlertModel.user_name).in_(users))
        if new.iocs:
            shared = (
                select(AlertIOCModel.alert_id)
                .join(IOCModel, IOCModel.id == AlertIOCModel.ioc_id)
                .where(IOCModel.value.in_(sorted(new.iocs)))
            )
            conditions.append(AlertModel.id.in_(shared))
        return conditions

    async def _peers(self, alert: AlertModel, new: Facts) -> list[AlertModel]:
        """Open alerts sharing an entity or indicator whose event time comes within the window."""
        conditions = self._lookups(new)
        if not conditions:
            return []
        window = timedelta(minutes=self.window_minutes)
        stmt = (
            select(AlertModel)
            .where(
                or_(*conditions),
                AlertModel.id != alert.id,
                AlertModel.status.not_in(CLOSED_ALERT_STATUSES),
                AlertModel.last_seen_at >= alert.first_seen_at - window,
                AlertModel.first_seen_at <= alert.last_seen_at + window,
            )
            .order_by(AlertModel.last_seen_at.desc())
            .limit(PEER_SCAN_LIMIT)
        )
        return list((await self.session.scalars(stmt)).all())

    async def _common(self, new: Facts, peers: Sequence[AlertModel]) -> frozenset[str]:
        """The common ones among the indicators ``new`` shares with a peer: only those could count,
        and asking costs two queries over the observables table per alert, so it is asked only then."""
        shared = new.iocs.intersection(ioc for peer in peers for ioc in peer.iocs or [])
        return frozenset(await common_values(self.session, shared)) if shared else frozenset()

    def _too_low(self, alert: AlertModel) -> bool:
        """Below the auto-case floor an alert opens a case only together with a matching peer."""
        return Severity(alert.severity).rank < self.min_severity.rank

    async def _claim(self, alert: AlertModel, *others: AlertModel) -> bool:
        """Lock the alerts about to be placed; False when ``alert`` is already in a case.

        A conditional ``UPDATE`` (it writes nothing new) rather than ``SELECT … FOR UPDATE`` because
        SQLite has no row locks: there the statement takes the database's writer, on PostgreSQL the
        rows' locks, and on both it reads the latest committed ``case_id``. An alert found in a case
        gets that case in memory, so the caller neither moves it nor pulls it along.
        """
        wanted = [alert, *others]
        stmt = (
            update(AlertModel)
            .where(AlertModel.id.in_([a.id for a in wanted]), AlertModel.case_id.is_(None))
            .values(case_id=None)
            .returning(AlertModel.id)
            .execution_options(synchronize_session=False)
        )
        free = set((await self.session.scalars(stmt)).all())
        for taken in [a for a in wanted if a.id not in free]:
            await self.session.refresh(taken, ["case_id"])
        return alert.id in free

    async def _score_cases(
        self, new: Facts, peers: Sequence[AlertModel], common: frozenset[str]
    ) -> list[tuple[CaseModel, list[Reason], datetime]]:
        by_case: dict[uuid.UUID, list[AlertModel]] = {}
        for peer in peers:
            if peer.case_id is not None:
                by_case.setdefault(peer.case_id, []).append(peer)
        if not by_case:
            return []
        stmt = select(CaseModel).where(
            CaseModel.id.in_(list(by_case)), CaseModel.status.not_in([s.value for s in FINISHED])
        )
        scored = []
        for case in (await self.session.scalars(stmt)).all():
            members = by_case[case.id]
            reasons = match_reasons(new, [Facts.of_alert(m) for m in members], common)
            scored.append((case, reasons, max(m.last_seen_at for m in members)))
        return scored

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
