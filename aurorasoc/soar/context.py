"""The execution context conditions and templates read (spec §15.3).

Roots: ``alert``, ``case``, ``asset`` (``criticality`` from the alert's or case's
``metadata.asset_criticality``, default ``medium``), ``device`` (``type``: ``ot`` for CPS/IoT
assets, else ``it``), ``previous.<step>`` (``status``, ``output``), ``time`` (``hour``,
``is_business_hours`` = Mon-Fri 08-18 local) and ``params``. Alerts also expose ``hosts``,
``users``, ``devices`` (from ``affected_assets``) and ``ips`` (from ``iocs``) for templates.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel

OT_ASSET_TYPES = frozenset({"iot_sensor", "cps_controller"})
CRITICAL_LEVELS = frozenset({"high", "critical"})


def _prefixed(assets: list[str], prefix: str) -> list[str]:
    return [a.split(":", 1)[1] for a in assets if a.startswith(f"{prefix}:")]


def _ips(values: list[str]) -> list[str]:
    found = []
    for value in values:
        try:
            found.append(str(ipaddress.ip_address(value)))
        except ValueError:
            continue
    return found


def alert_view(alert: AlertModel) -> dict[str, Any]:
    assets = list(alert.affected_assets or [])
    return {
        "id": str(alert.id), "title": alert.title, "description": alert.description,
        "severity": alert.severity, "status": alert.status, "source": alert.source,
        "asset_type": alert.asset_type, "iocs": list(alert.iocs or []),
        "mitre_techniques": list(alert.mitre_techniques or []), "affected_assets": assets,
        "hosts": _prefixed(assets, "host"), "users": _prefixed(assets, "user"),
        "devices": _prefixed(assets, "device"), "ips": _ips(list(alert.iocs or [])),
        "occurrence_count": alert.occurrence_count, "metadata": dict(alert.metadata_ or {}),
    }  # fmt: skip


def case_view(case: CaseModel) -> dict[str, Any]:
    return {
        "id": str(case.id), "title": case.title, "severity": case.severity, "status": case.status,
        "iocs": list(case.iocs or []), "affected_assets": list(case.affected_assets or []),
        "mitre_techniques": list(case.mitre_techniques or []), "metadata": dict(case.metadata_ or {}),
    }  # fmt: skip


def time_view(now: datetime | None = None) -> dict[str, Any]:
    local = (now or datetime.now()).astimezone()
    return {"hour": local.hour, "is_business_hours": local.weekday() < 5 and 8 <= local.hour < 18}


async def build_context(
    session: AsyncSession,
    *,
    alert_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    parameters: dict[str, Any],
    steps: list[dict[str, Any]],
) -> dict[str, Any]:
    alert = await session.get(AlertModel, alert_id) if alert_id else None
    case = await session.get(CaseModel, case_id) if case_id else None
    alert_data = alert_view(alert) if alert else {}
    case_data = case_view(case) if case else {}
    criticality = (alert_data.get("metadata") or {}).get("asset_criticality") or (
        case_data.get("metadata") or {}
    ).get("asset_criticality")
    is_ot = (alert is not None and alert.asset_type in OT_ASSET_TYPES) or bool(alert_data.get("devices"))
    previous = {
        s["name"]: {"status": s["status"], "output": s.get("output")}
        for s in steps
        if s["status"] != "pending"
    }
    return {
        "alert": alert_data,
        "case": case_data,
        "asset": {"criticality": str(criticality or "medium")},
        "device": {"type": "ot" if is_ot else "it"},
        "previous": previous,
        "time": time_view(),
        "params": dict(parameters),
    }


def is_critical_asset(context: dict[str, Any]) -> bool:
    return context["asset"]["criticality"] in CRITICAL_LEVELS
