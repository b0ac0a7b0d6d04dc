"""What an analyst needs to trust an alert or a case (spec §27): events, process tree, entities, summary.

* Alert evidence: the contributing events (``metadata.log_ids``), the process tree from the alert's
  process up its parents as far as the store knows them (Sysmon ``ProcessGuid`` →
  ``ParentProcessGuid`` through the indexed ``siem_logs.process_entity_id``), the observables with their
  indicator / benign marks, and the SIEM query and event-time range that finds the events again.
* Case evidence: entities, event-time span, the ATT&CK tactic chain in kill-chain order, the recorded
  correlation reasons and a one-paragraph summary generated from those facts (no LLM needed).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel, TimelineEntryModel
from aurorasoc.cases.summary import case_alerts, compute, tactic_chain, top_values
from aurorasoc.core.errors import NotFound
from aurorasoc.siem.models import SiemLogModel

MAX_TREE_DEPTH = 10
MAX_EVENTS = 100
SEARCH_MARGIN = timedelta(minutes=1)


def _log_ids(alert: AlertModel) -> list[uuid.UUID]:
    out = []
    for raw in (alert.metadata_ or {}).get("log_ids", [])[:MAX_EVENTS]:
        try:
            out.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return out


def _event_summary(log: SiemLogModel) -> dict[str, Any]:
    return {
        "id": str(log.id),
        "event_time": log.timestamp,
        "received_at": log.received_at,
        "time_source": log.time_source,
        "source": log.source,
        "channel": log.channel,
        "event_id": log.event_id,
        "host": log.host,
        "user_name": log.user_name,
        "src_ip": log.src_ip,
        "process_executable": log.process_executable,
        "message": log.message,
    }


async def _process_tree(session: AsyncSession, entities: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert's process, then each known parent; stops at an unknown or repeated id."""
    tree = [
        {
            "entity_id": entities.get("process.entity_id"),
            "pid": entities.get("process.pid"),
            "executable": entities.get("process.executable"),
            "command_line": entities.get("process.command_line"),
        }
    ]
    parent = {
        "entity_id": entities.get("process.parent.entity_id"),
        "pid": entities.get("process.parent.pid"),
        "executable": entities.get("process.parent.executable"),
        "command_line": entities.get("process.parent.command_line"),
    }
    seen: set[str] = set()
    while any(parent.values()) and len(tree) < MAX_TREE_DEPTH:
        tree.append(parent)
        guid = parent.get("entity_id")
        if not guid or guid in seen:
            break
        seen.add(str(guid))
        stmt = (
            select(SiemLogModel.entities)
            .where(SiemLogModel.process_entity_id == str(guid))
            .order_by(SiemLogModel.timestamp)
            .limit(1)
        )
        known = await session.scalar(stmt)
        if not known:
            break
        parent.update(
            executable=parent["executable"] or known.get("process.executable"),
            command_line=parent["command_line"] or known.get("process.command_line"),
        )
        parent = {
            "entity_id": known.get("process.parent.entity_id"),
            "pid": known.get("process.parent.pid"),
            "executable": known.get("process.parent.executable"),
            "command_line": known.get("process.parent.command_line"),
        }
    return [node for node in tree if any(node.values())]


def siem_query_for(alert: AlertModel) -> dict[str, Any]:
    """The SIEM search (query + absolute event-time range) that shows the alert's events."""
    query = f'host:"{alert.host}"' if alert.host else ""
    return {
        "q": query,
        "since": alert.first_seen_at - SEARCH_MARGIN,
        "until": alert.last_seen_at + SEARCH_MARGIN,
    }


async def alert_evidence(session: AsyncSession, alert_id: uuid.UUID) -> dict[str, Any]:
    alert = await session.get(AlertModel, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    ids = _log_ids(alert)
    logs = []
    if ids:
        stmt = select(SiemLogModel).where(SiemLogModel.id.in_(ids)).order_by(SiemLogModel.timestamp)
        logs = list((await session.scalars(stmt)).all())
    return {
        "alert_id": str(alert.id),
        "first_seen_at": alert.first_seen_at,
        "last_seen_at": alert.last_seen_at,
        "created_at": alert.created_at,
        "entities": alert.entities or {},
        "observables": alert.observables or [],
        "process_tree": await _process_tree(session, alert.entities or {}),
        "events": [_event_summary(log) for log in logs],
        "raw_event": logs[0].raw if logs else alert.raw_log,
        "siem_search": siem_query_for(alert),
    }


async def case_evidence(session: AsyncSession, case_id: uuid.UUID) -> dict[str, Any]:
    case = await session.get(CaseModel, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    alerts = await case_alerts(session, case_id)
    links = await session.scalars(
        select(TimelineEntryModel).where(
            TimelineEntryModel.case_id == case_id, TimelineEntryModel.action == "alert_correlated"
        )
    )
    span: tuple[datetime | None, datetime | None] = (
        min((a.first_seen_at for a in alerts), default=None),
        max((a.last_seen_at for a in alerts), default=None),
    )
    chain = tactic_chain(alerts)
    return {
        "case_id": str(case.id),
        "alert_count": len(alerts),
        "event_time_start": span[0],
        "event_time_end": span[1],
        "entities": {
            "hosts": top_values([a.host for a in alerts], 50),
            "users": top_values([a.user_name for a in alerts], 50),
            "processes": top_values([a.process_executable for a in alerts], 50),
            "ips": top_values([a.src_ip for a in alerts] + [a.dst_ip for a in alerts], 50),
        },
        "tactic_chain": chain,
        "links": [{"alert_id": e.data.get("alert_id"), "reasons": e.data.get("reasons", [])} for e in links],
        "summary": (await compute(session, case, alerts))["text"],
    }
