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
* An alert that names no host and no user (a web-server log: the server is the log source, the
  actor is the client) is known by its source address, ``source:<ip>``, and links to other such
  alerts from that address (``alerts.src_ip``), private addresses included: an XSS probe and a path
  traversal from one client nine seconds apart are one incident. An alert with a host never links
  through its source address alone.
* The look-up is bounded and indexed (``cases.peers``: at most ``PEER_SCAN_LIMIT`` newest peers per
  alert, one statement per batch), never a load of every open case. A case is therefore found
  through its alerts; a hand-made case without alerts is not a candidate.
* A batch (:meth:`CaseCorrelator.correlate_many`) is correlated in one pass, in order: an alert
  sees the cases the alerts before it joined or opened, so two alerts of one batch sharing a host
  land in one case.
* Linking goes through ``CaseService.link_alert`` followed by the ``alert_correlated`` entry that
  records every reason (kind, value, peer alert). With no matching case, only the best un-cased
  peer (most reasons, then most recently seen) is pulled into the new case with the new alert.
* Correlation never moves an alert someone else placed in a case: before writing, the alerts it
  would place are claimed (:meth:`CaseCorrelator._claim`), a conditional ``UPDATE … WHERE case_id
  IS NULL`` that sees a link committed by an analyst (promotion, manual link) and, on PostgreSQL,
  locks the rows until the pipeline commits, so no link can interleave.
* An opened case is named after its most severe detection and where it happened (``naming.case_title``);
  while nobody has renamed it, a more severe alert joining renames it (a ``case_retitled`` entry).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Literal, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.lifecycle import FINISHED
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.naming import auto_naming, case_title, description_unedited, title_unedited
from aurorasoc.cases.peers import Lookup, Peer, find_peers
from aurorasoc.cases.service import CaseService
from aurorasoc.core import runtime
from aurorasoc.core.config import get_settings
from aurorasoc.core.ecs import is_service_account
from aurorasoc.core.metrics import CASES_CREATED
from aurorasoc.core.types import Unindexed
from aurorasoc.core.vocabulary import CaseSource, CaseStatus, Severity
from aurorasoc.intel import attack
from aurorasoc.intel.observables import common_values

ACTOR = "correlator"
ENTITY_PREFIXES = ("host:", "user:", "device:")
SOURCE_PREFIX = "source:"  # the source address of an alert with no host or user
_FINISHED = frozenset(s.value for s in FINISHED)
ReasonKind = Literal["shared_ioc", "tactic_chain", "shared_entity"]
_STRENGTH: dict[str, int] = {"shared_ioc": 0, "tactic_chain": 1, "shared_entity": 2}
MIN_CHAIN_TACTICS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Facts:
    """What correlation compares: indicators, entities (``host:``/``user:``, lower-case) and techniques."""

    iocs: frozenset[str]
    entities: frozenset[str]
    techniques: frozenset[str]
    source: str | None = None
    alert_id: uuid.UUID | None = None

    @cached_property
    def tactics(self) -> frozenset[str]:
        return frozenset(t for tid in self.techniques for t in attack.tactics_for(tid))

    @cached_property
    def lowered(self) -> frozenset[str]:
        """The entities lower-cased once: a peer is compared with every alert of its batch, and each
        comparison used to lower-case both sides again."""
        return frozenset(e.lower() for e in self.entities)

    @classmethod
    def of_alert(cls, alert: AlertModel | Peer) -> Facts:
        assets = [*(alert.affected_assets or [])]
        assets += [f"host:{alert.host}"] if alert.host else []
        assets += [f"user:{alert.user_name}"] if alert.user_name else []
        entities = _entities(assets)
        if not entities and alert.src_ip:  # a web attack: the client is all that names the actor
            entities = frozenset({f"{SOURCE_PREFIX}{alert.src_ip}"})
        return cls(
            iocs=frozenset(alert.iocs or []),
            entities=entities,
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


def _entities(assets: Iterable[str]) -> frozenset[str]:
    out = set()
    for asset in assets:
        kind, _, value = asset.partition(":")
        if asset.startswith(ENTITY_PREFIXES) and not (kind == "user" and is_service_account(value)):
            out.add(asset)
    return frozenset(out)


def _shared(mine: frozenset[str], theirs: Facts) -> list[str]:
    """Entities in both, case-insensitively (``host:WS01`` is ``host:ws01``), named as in ``mine``."""
    return sorted(e for e in mine if e.lower() in theirs.lowered)


def match_reasons(new: Facts, peers: Sequence[Facts], common: frozenset[str] = frozenset()) -> list[Reason]:
    """Every distinct reason ``new`` shares with ``peers``, strongest first (pure).

    ``common`` indicators (seen on many hosts) never count.
    """
    found: dict[tuple[str, str], Reason] = {}
    for peer in peers:
        shared = sorted((new.iocs & peer.iocs) - common)
        candidates = [Reason("shared_ioc", v, peer.alert_id) for v in shared]
        candidates += [Reason("shared_entity", v, peer.alert_id) for v in _shared(new.entities, peer)]
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
        on_host = [p for p in peers if p.tactics and host.lower() in p.lowered]
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
        self.cases = CaseService(session, deferred_timeline=True)  # correlate_many ends with its flush
        detection = get_settings().detection
        self.window_minutes = detection.correlation_window_minutes
        self.min_severity = Severity(detection.auto_case_min_severity)
        self._case_rows: dict[uuid.UUID, CaseModel | None] = {}  # cases read during this batch
        self._peer_facts: dict[uuid.UUID, Facts] = {}  # a peer's facts, built once per batch

    async def correlate(self, alert: AlertModel) -> CorrelationResult:
        """Link ``alert`` to its best case or open one; flushes, never commits (pipeline write)."""
        return (await self.correlate_many([alert]))[0]

    async def correlate_many(self, alerts: Sequence[AlertModel]) -> list[CorrelationResult]:
        """Correlate a batch in one pass, in order; an alert sees the cases of those before it.

        The batch's alerts are claimed with one statement and their peers read with another; the
        rest is per alert, in memory, except the claim of an un-cased peer a new case pulls in.
        """
        if not runtime.write_allowed("pipeline"):
            return [CorrelationResult(skipped="mode_blocks_pipeline") for _ in alerts]
        free = await self._claim([a for a in alerts if a.case_id is None])
        todo = [a for a in alerts if a.id in free]
        facts = [Facts.of_alert(a) for a in todo]
        peers = await self._peers([lookup_of(a, f) for a, f in zip(todo, facts, strict=True)])
        common = await common_shared(self.session, facts, peers)
        await self._open_cases(
            list({p.case_id: None for mine in peers for p in mine if p.case_id})
        )  # one read
        as_peer = {p.id: p for mine in peers for p in mine}
        placed: dict[uuid.UUID, CorrelationResult] = {}
        with self.session.no_autoflush:  # the links are written together, in one flush at the end
            for alert, new, mine in zip(todo, facts, peers, strict=True):
                if alert.case_id is not None:  # an alert before it in the batch pulled it into its case
                    continue
                placed[alert.id] = result = await self._place(alert, new, mine, common)
                for linked in [as_peer[i] for i in result.linked_alert_ids if i in as_peer]:
                    linked.case_id = result.case_id  # later alerts of the batch see the case
        await self.cases.flush()
        return [placed.get(a.id) or _not_placed(a) for a in alerts]

    async def _place(
        self, alert: AlertModel, new: Facts, peers: list[Peer], common: frozenset[str]
    ) -> CorrelationResult:
        best_case = pick_best(await self._score_cases(new, peers, common))
        if best_case is not None:
            target, reasons = best_case
            await self._link(target, alert, reasons)
            return CorrelationResult(case_id=target.id, reasons=reasons, linked_alert_ids=[alert.id])
        loose = [p for p in peers if p.case_id is None]
        best_peer = pick_best(
            [(p, match_reasons(new, [self._facts(p)], common), p.last_seen_at) for p in loose]
        )
        peer, reasons = best_peer or (None, [])
        if peer is not None and not await self._claim([peer]):
            peer, reasons = None, []  # placed in a case meanwhile: the new case opens without it
        if peer is None and self._too_low(alert):
            return CorrelationResult(skipped="no_match")
        created = await self._open_case(alert, peer, reasons)
        linked = [alert.id] + ([peer.id] if peer else [])
        return CorrelationResult(case_id=created.id, created=True, reasons=reasons, linked_alert_ids=linked)

    async def _peers(self, lookups: list[Lookup]) -> list[list[Peer]]:
        """Open alerts sharing an entity or indicator whose event time comes within the window."""
        return await find_peers(self.session, lookups, timedelta(minutes=self.window_minutes))

    def _too_low(self, alert: AlertModel) -> bool:
        """Below the auto-case floor an alert opens a case only together with a matching peer."""
        return Severity(alert.severity).rank < self.min_severity.rank

    async def _claim(self, wanted: Sequence[AlertModel | Peer]) -> set[uuid.UUID]:
        """Lock the alerts about to be placed; returns those still in no case.

        A conditional ``UPDATE`` (it writes nothing new) rather than ``SELECT … FOR UPDATE`` because
        SQLite has no row locks: there the statement takes the database's writer, on PostgreSQL the
        rows' locks, and on both it reads the latest committed ``case_id``. An alert found in a case
        gets that case in memory, so it is neither moved nor pulled along. On PostgreSQL a row another
        transaction holds (an ingest folding a repeat into it) is skipped, not waited for: waiting
        while holding the batch's rows deadlocked with ingest; such an alert comes back ``busy``.
        """
        if not wanted:
            return set()
        unlocked = (
            select(AlertModel.id)
            .where(AlertModel.id.in_([a.id for a in wanted]), Unindexed(AlertModel.case_id).is_(None))
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(AlertModel)
            .where(AlertModel.id.in_(unlocked))
            .values(case_id=None)
            .returning(AlertModel.id)
            .execution_options(synchronize_session=False)
        )
        free = set((await self.session.scalars(claim)).all())
        taken = [a for a in wanted if a.id not in free]
        if taken:
            stmt = select(AlertModel.id, AlertModel.case_id).where(AlertModel.id.in_([a.id for a in taken]))
            cases: dict[uuid.UUID, uuid.UUID | None] = dict((await self.session.execute(stmt)).tuples().all())
            for alert in taken:
                if isinstance(alert, AlertModel):
                    set_committed_value(alert, "case_id", cases.get(alert.id))
                else:
                    alert.case_id = cases.get(alert.id)
        return free

    async def _score_cases(
        self, new: Facts, peers: Sequence[Peer], common: frozenset[str]
    ) -> list[tuple[CaseModel, list[Reason], datetime]]:
        by_case: dict[uuid.UUID, list[Peer]] = {}
        for peer in peers:
            if peer.case_id is not None:
                by_case.setdefault(peer.case_id, []).append(peer)
        scored = []
        for case in await self._open_cases(list(by_case)):
            members = by_case[case.id]
            reasons = match_reasons(new, [self._facts(m) for m in members], common)
            scored.append((case, reasons, max(m.last_seen_at for m in members)))
        return scored

    def _facts(self, peer: Peer) -> Facts:
        """A peer is compared with every alert of the batch near it: its facts (and their tactics
        and lower-cased entities) are built once."""
        found = self._peer_facts.get(peer.id)
        if found is None:
            found = self._peer_facts[peer.id] = Facts.of_alert(peer)
        return found

    async def _open_cases(self, case_ids: list[uuid.UUID]) -> list[CaseModel]:
        """The cases among ``case_ids`` that are not finished; each is read once per batch."""
        missing = [i for i in case_ids if i not in self._case_rows]
        if missing:
            self._case_rows.update(dict.fromkeys(missing))
            found = await self.session.scalars(select(CaseModel).where(CaseModel.id.in_(missing)))
            self._case_rows.update((c.id, c) for c in found.all())
        rows = [self._case_rows[i] for i in case_ids]
        return [c for c in rows if c is not None and c.status not in _FINISHED]

    async def _link(self, target: CaseModel, alert: AlertModel, reasons: list[Reason]) -> None:
        raises = Severity(alert.severity).rank > Severity(target.severity).rank
        self.cases.attach_alert(target, alert, ACTOR)
        if raises and title_unedited(target):
            self._retitle(target, alert)
        self._explain(target, alert, reasons)

    async def _open_case(self, alert: AlertModel, peer: Peer | None, reasons: list[Reason]) -> CaseModel:
        pulled = await self.session.get(AlertModel, peer.id) if peer is not None else None
        members = [alert] if pulled is None else [pulled, alert]
        # the case is named after the more severe of the two; on a tie, the new alert
        lead = alert if pulled is None else max(alert, pulled, key=lambda a: Severity(a.severity).rank)
        created = self.cases.add(
            title=(title := case_title(lead)),
            severity=alert.severity,
            actor="system",
            description=lead.description,
            alerts=members,
            source=CaseSource.CORRELATION,
            status=CaseStatus.OPEN,
            details="Auto-created from alert correlation",
            metadata=auto_naming(title, lead.description),
        )
        self._case_rows[created.id] = created
        if reasons:
            self._explain(created, alert, reasons)
        CASES_CREATED.labels(CaseSource.CORRELATION.value).inc()
        return created

    def _retitle(self, target: CaseModel, alert: AlertModel) -> None:
        """A case nobody renamed keeps naming its most severe detection as more severe ones join;
        its description follows too, unless someone has edited it."""
        title = case_title(alert)
        data = {"alert_id": str(alert.id), "before": target.title, "after": title}
        self.cases.record_entry(
            target, "case_retitled", ACTOR, f"Title follows a {alert.severity} alert: {title}", data
        )
        target.title = title
        if description_unedited(target):
            target.description = alert.description
        target.metadata_ = {**(target.metadata_ or {}), **auto_naming(target.title, target.description)}

    def _explain(self, target: CaseModel, alert: AlertModel, reasons: list[Reason]) -> None:
        """The ``alert_correlated`` entry: the strongest reason in words, all of them in data."""
        data = {"reasons": [r.as_data() for r in reasons], "alert_id": str(alert.id)}
        described = reasons[0].describe(self.window_minutes)
        self.cases.record_entry(target, "alert_correlated", ACTOR, described, data)


async def common_shared(
    session: AsyncSession, facts: Sequence[Facts], peers: Sequence[Sequence[Peer]]
) -> frozenset[str]:
    """The common ones among the indicators an alert shares with a peer: only those could count,
    and asking scans the observables table, so it is asked once per batch and only then."""
    shared: set[str] = set()
    for new, mine in zip(facts, peers, strict=True):
        shared |= new.iocs.intersection(i for p in mine for i in p.iocs or [])
    return frozenset(await common_values(session, shared)) if shared else frozenset()


def _not_placed(alert: AlertModel) -> CorrelationResult:
    if alert.case_id is None:  # its row was locked by another transaction: try again later
        return CorrelationResult(skipped="busy")
    return CorrelationResult(case_id=alert.case_id, skipped="already_in_case")


def lookup_of(alert: AlertModel, new: Facts) -> Lookup:
    """What ``alert`` is looked up by (pure): its hosts and users lower-cased, indicators, span."""
    return Lookup(
        alert_id=alert.id,
        hosts=frozenset(e[5:].lower() for e in new.entities if e.startswith("host:")),
        users=frozenset(e[5:].lower() for e in new.entities if e.startswith("user:")),
        iocs=new.iocs,
        addresses=frozenset(
            e.removeprefix(SOURCE_PREFIX) for e in new.entities if e.startswith(SOURCE_PREFIX)
        ),
        first_seen_at=alert.first_seen_at,
        last_seen_at=alert.last_seen_at,
    )
