"""Built-in actions (spec §15.2). Target parameters take one value or a list (one call each)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.vocabulary import ActionClass
from aurorasoc.intel.models import IOCModel
from aurorasoc.soar.actions import ActionContext, ActionRegistry

DEFAULT_BLOCK_SECONDS = 86_400


def _targets(params: dict[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        raise InvalidInput(f"parameter {key!r} is required")
    values = value if isinstance(value, list) else [value]
    return [
        str(v).split(":", 1)[1] if str(v).startswith(("host:", "user:", "device:")) else str(v)
        for v in values
    ]


def _reason(params: dict[str, Any]) -> str:
    return str(params.get("reason") or "AuroraSOC playbook")


Call = Callable[[ActionContext, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _per_target(
    key: str, capability: str, method: str, extra: Callable[[dict[str, Any]], dict[str, Any]]
) -> Any:
    """A handler calling ``capability.method`` once per value of parameter ``key``."""

    async def handler(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        results = {}
        for target in _targets(params, key):
            results[target] = await ctx.call(capability, method, target, **{key: target, **extra(params)})
        return {"targets": list(results), "results": results}

    handler.__name__ = method
    return handler


async def block_ip(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Blocks the IP values; other IOC types in a templated list are reported, not blocked."""
    ips, skipped = [], []
    for value in _targets(params, "ip"):
        try:
            ips.append(str(ipaddress.ip_address(value)))
        except ValueError:
            skipped.append(value)
    duration = int(params.get("duration_s", DEFAULT_BLOCK_SECONDS))
    results = {
        ip: await ctx.call("firewall", "block_ip", ip, ip=ip, duration_s=duration, reason=_reason(params))
        for ip in ips
    }
    return {"targets": ips, "skipped": skipped, "results": results}


async def unblock_ip(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    ips = [v for v in _targets(params, "ip") if _is_ip(v)]
    results = {ip: await ctx.call("firewall", "unblock_ip", ip, ip=ip, reason=_reason(params)) for ip in ips}
    return {"targets": ips, "results": results}


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


async def enrich_ioc(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Internal enrichment (§14.4): what the local IOC store knows about each value."""
    values = _targets(params, "iocs")
    rows = (await ctx.session.scalars(select(IOCModel).where(IOCModel.value.in_(values)))).all()
    known = {
        row.value: {"type": row.type, "confidence": row.confidence, "status": row.status} for row in rows
    }
    return {"known": known, "unknown": [v for v in values if v not in known]}


async def notify(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    channel = str(params.get("channel", "soc"))
    message = str(params.get("message") or "")
    if not message:
        raise InvalidInput("parameter 'message' is required")
    payload = params.get("payload") or {}
    return await ctx.call("notify", "notify", channel, channel=channel, message=message, payload=payload)


def _on_host(key: str) -> Any:
    """A handler acting on one ``key`` (a process or a file) on one host through the EDR."""

    async def handler(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        [host] = _targets(params, "host")[:1]
        value = str(params.get(key) or "")
        if not value:
            raise InvalidInput(f"parameter {key!r} is required")
        method = handler.__name__
        return await ctx.call(
            "edr", method, f"{host}:{value}", host=host, reason=_reason(params), **{key: value}
        )

    handler.__name__ = {"process": "kill_process", "path": "quarantine_file"}[key]
    return handler


def _reason_only(params: dict[str, Any]) -> dict[str, Any]:
    return {"reason": _reason(params)}


def register_builtins(registry: ActionRegistry) -> None:
    reg = registry.register
    edr = "edr"
    reg(
        "isolate_host",
        _per_target("host", edr, "isolate_host", _reason_only),
        action_class=ActionClass.ACTUATE,
        reversible=True,
        rollback_action="unisolate_host",
        connector=edr,
    )
    reg(
        "unisolate_host",
        _per_target("host", edr, "unisolate_host", _reason_only),
        action_class=ActionClass.ACTUATE,
        reversible=False,
        rollback_action=None,
        connector=edr,
        rollback_only=True,
    )
    reg(
        "block_ip",
        block_ip,
        action_class=ActionClass.WRITE_EXTERNAL,
        reversible=True,
        rollback_action="unblock_ip",
        connector="firewall",
    )
    reg(
        "unblock_ip",
        unblock_ip,
        action_class=ActionClass.WRITE_EXTERNAL,
        reversible=False,
        rollback_action=None,
        connector="firewall",
        rollback_only=True,
    )
    for name, key in (("kill_process", "process"), ("quarantine_file", "path")):
        reg(
            name,
            _on_host(key),
            action_class=ActionClass.ACTUATE,
            reversible=False,
            rollback_action="none",
            connector=edr,
        )
    reg(
        "disable_user",
        _per_target("user", "identity", "disable_user", _reason_only),
        action_class=ActionClass.ACTUATE,
        reversible=True,
        rollback_action="enable_user",
        connector="identity",
    )
    reg(
        "enable_user",
        _per_target("user", "identity", "enable_user", _reason_only),
        action_class=ActionClass.ACTUATE,
        reversible=False,
        rollback_action=None,
        connector="identity",
        rollback_only=True,
    )
    reg(
        "revoke_certificate",
        _per_target("serial", "pki", "revoke_certificate", _reason_only),
        action_class=ActionClass.DESTRUCTIVE,
        reversible=False,
        rollback_action="none",
        connector="pki",
    )
    reg(
        "run_scan",
        _per_target("host", edr, "run_scan", lambda p: {"scan_type": str(p.get("scan_type", "full"))}),
        action_class=ActionClass.READ,
        reversible=False,
        rollback_action=None,
        connector=edr,
    )
    reg(
        "collect_forensics",
        _per_target(
            "host", edr, "collect_forensics", lambda p: {"artifacts": list(p.get("artifacts", ["memory"]))}
        ),
        action_class=ActionClass.READ,
        reversible=False,
        rollback_action=None,
        connector=edr,
    )
    reg(
        "enrich_ioc",
        enrich_ioc,
        action_class=ActionClass.READ,
        reversible=False,
        rollback_action=None,
        connector="internal",
    )
    reg(
        "notify",
        notify,
        action_class=ActionClass.WRITE_INTERNAL,
        reversible=False,
        rollback_action=None,
        connector="notify",
    )
