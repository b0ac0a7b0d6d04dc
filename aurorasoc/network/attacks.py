"""Network-attack correlation (spec §13.8) and the reads/writes behind ``/network/attacks``.

The ``alert-pipeline`` consumer calls :meth:`NetworkAttackCorrelator.correlate` after case
correlation. The rules themselves live in ``network_facts`` (pure); this module loads the
candidate attack, folds the alert in and opens a case when the attack is convincing enough.

When the automatic case opens, the attack's alerts usually already sit in a correlation case
(case correlation ran first): only alerts without a case are linked, so no alert is pulled out
of the case an analyst may already be working; the attack id, findings and src/dst observables
are on the new case either way.
"""

from __future__ import annotations

import builtins
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, String, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.events import publish_alert_event
from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import CaseService
from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, InvalidInput, NotFound
from aurorasoc.core.metrics import CASES_CREATED, NETWORK_ATTACK_DETECTIONS
from aurorasoc.core.vocabulary import CaseSource, CaseStatus, Severity
from aurorasoc.network import facts as nf
from aurorasoc.network.models import NetworkAttackModel
from aurorasoc.siem.models import SiemLogModel

ATTACK_STATUSES = ("triage", "case", "dismissed")
_AttackKey = tuple[str | None, str | None, str]  # (src_ip, dst_ip, category)
_Pool = dict[_AttackKey, builtins.list[NetworkAttackModel]]


def _key_of(facts: nf.NetworkFacts) -> _AttackKey:
    return facts.src_ip, facts.dst_ip, facts.category


@dataclass(frozen=True)
class AttackFilters:
    severity: str | None = None
    category: str | None = None
    family: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        allowed = {
            "severity": [s.value for s in Severity],
            "category": nf.CATEGORIES,
            "family": nf.FAMILIES,
            "status": ATTACK_STATUSES,
        }
        for name, values in allowed.items():
            value = getattr(self, name)
            if value is not None and value not in values:
                raise InvalidInput(f"unknown {name} {value!r}; expected one of {', '.join(values)}")

    def clauses(self) -> builtins.list[ColumnElement[bool]]:
        model = NetworkAttackModel
        found: builtins.list[ColumnElement[bool]] = [
            col == value
            for col, value in (
                (model.severity, self.severity),
                (model.category, self.category),
                (model.status, self.status),
            )
            if value is not None
        ]
        if self.family is not None:  # validated above, so no LIKE wildcards can slip in
            found.append(cast(model.telemetry_families, String).like(f'%"{self.family}"%'))
        return found


def absorb(attack: NetworkAttackModel, facts: nf.NetworkFacts) -> None:
    """Fold one alert into an attack: families, alerts, techniques, severity, confidence, times."""
    families = list(dict.fromkeys([*(attack.telemetry_families or []), facts.family]))
    attack.telemetry_families = families
    attack.alert_ids = list(dict.fromkeys([*(attack.alert_ids or []), facts.alert_id]))
    attack.mitre_techniques = list(dict.fromkeys([*(attack.mitre_techniques or []), *facts.techniques]))
    attack.severity = nf.max_severity(attack.severity or facts.severity, facts.severity)
    attack.confidence = nf.confidence(families)
    attack.first_seen = min(attack.first_seen or facts.seen_at, facts.seen_at)
    attack.last_seen = max(attack.last_seen or facts.seen_at, facts.seen_at)


class NetworkAttackService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, attack_id: uuid.UUID) -> NetworkAttackModel:
        found = await self.session.get(NetworkAttackModel, attack_id)
        if found is None:
            raise NotFound(f"network attack {attack_id} does not exist", attack_id=str(attack_id))
        return found

    async def list(
        self, filters: AttackFilters, *, skip: int, limit: int
    ) -> tuple[builtins.list[NetworkAttackModel], int]:
        clauses = filters.clauses()
        total = await self.session.scalar(
            select(func.count()).select_from(NetworkAttackModel).where(*clauses)
        )
        stmt = (
            select(NetworkAttackModel)
            .where(*clauses)
            .order_by(NetworkAttackModel.last_seen.desc())
            .offset(skip)
            .limit(limit)
        )
        return builtins.list((await self.session.scalars(stmt)).all()), int(total or 0)

    async def top(self, limit: int) -> builtins.list[NetworkAttackModel]:
        """Open attacks (not dismissed) most worth a look: severity, then confidence, then recency."""
        model = NetworkAttackModel
        rank = case({s.value: s.rank for s in Severity}, value=model.severity, else_=0)
        stmt = (
            select(model)
            .where(model.status != "dismissed")
            .order_by(rank.desc(), model.confidence.desc(), model.last_seen.desc())
            .limit(limit)
        )
        return builtins.list((await self.session.scalars(stmt)).all())

    async def alerts(self, attack: NetworkAttackModel) -> builtins.list[AlertModel]:
        ids = [uuid.UUID(i) for i in attack.alert_ids or []]
        if not ids:
            return []
        stmt = select(AlertModel).where(AlertModel.id.in_(ids))
        stmt = stmt.order_by(AlertModel.first_seen_at, AlertModel.id)  # in event time
        return builtins.list((await self.session.scalars(stmt)).all())

    async def open_attack_case(self, attack_id: uuid.UUID, *, actor: Actor) -> CaseModel:
        """:meth:`open_case` by an operator: audited as ``case.create``, committed, then the
        alerts that moved into the case are announced."""
        attack = await self.get(attack_id)
        created, linked = await self.open_case(attack, actor.username)
        details = {"network_attack_id": str(attack.id), "alert_ids": [str(a.id) for a in linked]}
        await actor.audit(self.session, "case.create", ("case", str(created.id)), details)
        await self.session.commit()
        for alert in linked:
            await publish_alert_event(alert, "updated")
        return created

    async def open_case(
        self, attack: NetworkAttackModel, actor: str
    ) -> tuple[CaseModel, builtins.list[AlertModel]]:
        """A ``network_attack`` case carrying the attack id, findings and src/dst observables.

        Returns the case and the alerts newly linked to it; 409 ``attack_in_case`` when the
        attack already has one.
        """
        if attack.case_id is not None:
            raise Conflict(
                f"network attack {attack.id} already has case {attack.case_id}",
                code="attack_in_case",
                case_id=str(attack.case_id),
            )
        alerts = await self.alerts(attack)
        free = [a for a in alerts if a.case_id is None]
        lines = nf.findings(
            attack.telemetry_families, [a.title for a in alerts], attack.mitre_techniques, attack.confidence
        )
        cases = CaseService(self.session)
        created = await cases.create(
            title=attack.title,
            severity=attack.severity,
            actor=actor,
            description="\n".join(lines),
            alert_ids=[a.id for a in free],
            source=CaseSource.NETWORK_ATTACK,
            status=CaseStatus.OPEN,
            details=f"Opened from network attack {attack.id}",
        )
        observables = [ip for ip in (attack.src_ip, attack.dst_ip) if ip]
        created.iocs = list(dict.fromkeys([*observables, *(created.iocs or [])]))
        created.mitre_techniques = list(
            dict.fromkeys([*(created.mitre_techniques or []), *attack.mitre_techniques])
        )
        created.confidence = attack.confidence
        created.metadata_ = {"network_attack_id": str(attack.id), "findings": lines}
        attack.case_id, attack.status = created.id, "case"
        await self.session.flush()
        CASES_CREATED.labels(CaseSource.NETWORK_ATTACK.value).inc()
        return created, free


class NetworkAttackCorrelator:
    """Groups network alerts by (src_ip, dst_ip, category) within the window (pipeline write)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.window = timedelta(minutes=get_settings().detection.network_attack_window_minutes)

    async def correlate(self, alert: AlertModel) -> NetworkAttackModel | None:
        """The attack the alert joined or started; None when it is not a placeable network alert."""
        return (await self.correlate_many([alert]))[0]

    async def correlate_many(self, alerts: Sequence[AlertModel]) -> builtins.list[NetworkAttackModel | None]:
        """:meth:`correlate` for a batch, in order: an alert sees the attacks those before it joined
        or started. The batch's endpoints and candidate attacks are read with one statement each
        and the attacks written with one flush (a statement and a flush per alert were a quarter
        of the alert pipeline's CPU); only an attack that opens a case is flushed on the way."""
        if not runtime.write_allowed("pipeline"):
            return [None for _ in alerts]
        columns = await self._log_columns(alerts)
        facts = [self._facts(alert, columns.get(alert.id, (None, None))) for alert in alerts]
        pool = await self._candidates([f for f in facts if f is not None])
        placed: builtins.list[NetworkAttackModel | None] = []
        for alert, found in zip(alerts, facts, strict=True):
            placed.append(None if found is None else await self._place(alert, found, pool))
        await self.session.flush()
        return placed

    async def _place(self, alert: AlertModel, facts: nf.NetworkFacts, pool: _Pool) -> NetworkAttackModel:
        attack = self._pick(facts, pool.get(_key_of(facts), []))
        if attack is None:
            attack = NetworkAttackModel(
                id=uuid.uuid4(),
                title=nf.title_for(facts.category, facts.src_ip, facts.dst_ip),
                category=facts.category,
                severity=facts.severity,
                src_ip=facts.src_ip,
                dst_ip=facts.dst_ip,
                telemetry_families=[],
                alert_ids=[],
                mitre_techniques=[],
                status="triage",
            )
            self.session.add(attack)
            pool.setdefault(_key_of(facts), []).append(attack)
            NETWORK_ATTACK_DETECTIONS.labels(facts.category).inc()
        elif str(alert.id) in (attack.alert_ids or []):
            return attack
        absorb(attack, facts)
        if attack.case_id is None and nf.should_open_case(attack.confidence, attack.severity):
            await self.session.flush()
            await NetworkAttackService(self.session).open_case(attack, "system")
        elif attack.case_id is not None and alert.case_id is None:
            found = await self.session.get(CaseModel, attack.case_id)
            if found is not None:
                await CaseService(self.session).link_alert(found, alert, "correlator")
        return attack

    def _pick(
        self, facts: nf.NetworkFacts, attacks: Sequence[NetworkAttackModel]
    ) -> NetworkAttackModel | None:
        """The latest attack on the alert's (src, dst, category) that is not dismissed and whose
        span comes within the window of the alert's time."""
        since, until = facts.seen_at - self.window, facts.seen_at + self.window
        live = [a for a in attacks if a.status != "dismissed"]
        fits = [a for a in live if a.first_seen <= until and since <= a.last_seen]
        return max(fits, key=lambda a: a.last_seen, default=None)

    @staticmethod
    def _facts(alert: AlertModel, log_columns: nf.Endpoints) -> nf.NetworkFacts | None:
        techniques = tuple(alert.mitre_techniques or [])
        family = nf.network_family(alert.source, alert.metadata_, techniques)
        if family is None:
            return None
        src, dst = nf.endpoints(alert.metadata_, alert.raw_log, alert.iocs or [], log_columns)
        if src is None and dst is None:
            return None
        return nf.NetworkFacts(
            alert_id=str(alert.id),
            title=alert.title,
            severity=alert.severity,
            family=family,
            src_ip=src,
            dst_ip=dst,
            category=nf.category_for(techniques),
            techniques=techniques,
            seen_at=alert.first_seen_at,
        )

    async def _log_columns(self, alerts: Sequence[AlertModel]) -> dict[uuid.UUID, nf.Endpoints]:
        """Per alert: src/dst of the first ``siem_logs`` row behind it (normalised by the parsers)."""
        first: dict[uuid.UUID, uuid.UUID] = {}
        for alert in alerts:
            log_ids = (alert.metadata_ or {}).get("log_ids") or []
            with contextlib.suppress(IndexError, ValueError):
                first[alert.id] = uuid.UUID(str(log_ids[0]))
        if not first:
            return {}
        stmt = select(SiemLogModel.id, SiemLogModel.src_ip, SiemLogModel.dst_ip).where(
            SiemLogModel.id.in_(set(first.values()))
        )
        rows = {log_id: (src, dst) for log_id, src, dst in (await self.session.execute(stmt)).tuples()}
        return {alert_id: rows[log_id] for alert_id, log_id in first.items() if log_id in rows}

    async def _candidates(self, facts: Sequence[nf.NetworkFacts]) -> _Pool:
        """The stored attacks any of ``facts`` could join, by (src, dst, category): one read."""
        if not facts:
            return {}
        model = NetworkAttackModel
        keys = {_key_of(f) for f in facts}
        stmt = select(model).where(
            model.category.in_({category for _, _, category in keys}),
            or_(model.src_ip.in_({src for src, _, _ in keys if src}), model.src_ip.is_(None)),
            or_(model.dst_ip.in_({dst for _, dst, _ in keys if dst}), model.dst_ip.is_(None)),
            model.status != "dismissed",
            model.last_seen >= min(f.seen_at for f in facts) - self.window,
            model.first_seen <= max(f.seen_at for f in facts) + self.window,
        )
        pool: _Pool = {}
        for attack in (await self.session.scalars(stmt)).all():
            key = (attack.src_ip, attack.dst_ip, attack.category)
            if key in keys:
                pool.setdefault(key, []).append(attack)
        return pool
