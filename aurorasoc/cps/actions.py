"""CPS actions that run through the approval policy (spec §15.4, §18).

Conduit isolation is high impact: the API files an approval for ``isolate_conduit``, and the
approved action calls the ``firewall`` connector (simulated unless a real one is plugged in) and
only then marks the conduit ``isolated``, so the stored status never claims more than was done.
``register_cps_actions`` is the ``aurorasoc.actions`` entry point ``cps`` (pyproject.toml), which
``soar.default_actions`` loads like any plug-in's actions.
"""

from __future__ import annotations

import uuid
from typing import Any

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.vocabulary import ActionClass
from aurorasoc.cps.zones import ISOLATE_CONDUIT, ZoneService
from aurorasoc.soar.actions import ActionContext, ActionRegistry


async def isolate_conduit(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    try:
        conduit_id = uuid.UUID(str(params.get("conduit_id")))
    except ValueError as exc:
        raise InvalidInput("parameter 'conduit_id' must be a conduit id") from exc
    zones = ZoneService(ctx.session)
    conduit = await zones.conduit(conduit_id)
    result = await ctx.call(
        "firewall",
        ISOLATE_CONDUIT,
        f"conduit:{conduit.name}",
        conduit=conduit.name,
        from_zone=conduit.from_zone_id,
        to_zone=conduit.to_zone_id,
        reason=str(params.get("reason") or "AuroraSOC conduit isolation"),
    )
    await zones.isolate(conduit)
    return {"conduit_id": str(conduit.id), "status": conduit.status, "connector": result}


def register_cps_actions(registry: ActionRegistry) -> None:
    registry.register(
        ISOLATE_CONDUIT,
        isolate_conduit,
        action_class=ActionClass.ACTUATE,
        reversible=False,
        rollback_action=None,
        connector="firewall",
        permission="cps:write",
    )
