"""``aurorasoc investigate ALERT_ID``: run the investigation workflow and print the outcome."""

from __future__ import annotations

import json
import uuid
from typing import Any

import typer

from aurorasoc.agents.investigations import InvestigationService
from aurorasoc.agents.models import InvestigationModel
from aurorasoc.cli.common import console, ensure_schema, fail, run
from aurorasoc.core.db import session_scope
from aurorasoc.core.rbac import ROLE_PERMISSIONS
from aurorasoc.core.vocabulary import AgentType, Role


def investigate(
    alert_id: str = typer.Argument(..., help="The alert to investigate"),
    as_json: bool = typer.Option(False, "--json", help="Print the stored investigation as JSON"),
) -> None:
    """Investigate an alert with the agent fleet (the offline analyst when no LLM is configured)."""
    try:
        target = uuid.UUID(alert_id)
    except ValueError:
        fail(f"not an alert id: {alert_id}")
    ensure_schema()
    investigation = run(lambda: _investigate(target))
    result = investigation.result or {}
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "id": str(investigation.id),
                    "status": investigation.status,
                    "error": investigation.error,
                    "result": result,
                },
                default=str,
            )
        )
        return
    _print(investigation, result)
    if investigation.status == "failed":
        raise typer.Exit(1)


async def _investigate(alert_id: uuid.UUID) -> InvestigationModel:
    async with session_scope() as session:
        service = InvestigationService(session)
        prompt = "Investigate this alert: establish what happened, how bad it is, and what to do next."
        investigation = await service.create(AgentType.ORCHESTRATOR, prompt, "cli", alert_id=alert_id)
        return await service.execute(investigation, ROLE_PERMISSIONS[Role.ANALYST])


def _print(investigation: InvestigationModel, result: dict[str, Any]) -> None:
    confidence = float(investigation.confidence or 0)
    console.print(f"investigation {investigation.id}: {investigation.status}", highlight=False)
    if investigation.error:
        console.print(f"error: {investigation.error}", highlight=False)
        return
    console.print(
        f"verdict: {result.get('verdict')}  severity: {result.get('severity')}  "
        f"confidence: {confidence:.2f}  backend: {result.get('backend')}",
        highlight=False,
    )
    for key in ("mitre_techniques", "iocs", "skipped_agents"):
        if values := result.get(key):
            console.print(f"{key}: {', '.join(map(str, values))}", highlight=False)
    console.print("evidence:", highlight=False)
    for finding in result.get("findings", []):
        console.print(f"  - {finding['evidence']}", markup=False, highlight=False, soft_wrap=True)
    for rec in result.get("recommendations", []):
        console.print(f"recommend: {rec}", markup=False, highlight=False, soft_wrap=True)
