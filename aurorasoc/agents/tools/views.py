"""Compact, JSON-ready views of platform rows for tool results (what the model gets to read)."""

from __future__ import annotations

from typing import Any

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel
from aurorasoc.intel import attack
from aurorasoc.intel.models import IOCModel
from aurorasoc.siem.models import SiemLogModel


def alert_view(alert: AlertModel) -> dict[str, Any]:
    return {
        "id": str(alert.id),
        "title": alert.title,
        "description": (alert.description or "")[:500],
        "severity": alert.severity,
        "status": alert.status,
        "source": alert.source,
        "occurrence_count": alert.occurrence_count,
        "iocs": list(alert.iocs or []),
        "mitre_techniques": list(alert.mitre_techniques or []),
        "affected_assets": list(alert.affected_assets or []),
        "case_id": str(alert.case_id) if alert.case_id else None,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
    }


def case_view(case: CaseModel) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "title": case.title,
        "status": case.status,
        "severity": case.severity,
        "iocs": list(case.iocs or []),
        "mitre_techniques": list(case.mitre_techniques or []),
        "resolution_notes": case.resolution_notes,
        "confidence": case.confidence,
    }


def log_view(row: SiemLogModel) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "timestamp": row.timestamp.isoformat(),
        "source": row.source,
        "host": row.host,
        "user": row.user_name,
        "src_ip": row.src_ip,
        "dst_ip": row.dst_ip,
        "severity": row.severity,
        "message": (row.message or "")[:500],
    }


def ioc_view(ioc: IOCModel) -> dict[str, Any]:
    return {
        "id": str(ioc.id),
        "type": ioc.type,
        "value": ioc.value,
        "status": ioc.status,
        "confidence": ioc.confidence,
        "tags": list(ioc.tags or []),
        "sightings": ioc.sightings,
        "source": ioc.source,
        "tlp": ioc.tlp,
    }


def technique_view(tid: str) -> dict[str, Any] | None:
    found = attack.lookup(tid)
    if found is None:
        return None
    return {"id": found.id, "name": found.name, "tactics": attack.tactics_for(found.id), "url": found.url}
