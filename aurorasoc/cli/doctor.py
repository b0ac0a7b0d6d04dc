"""``aurorasoc doctor``: print the effective configuration, which secrets are set, and check services."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.table import Table

from aurorasoc.cli.common import console
from aurorasoc.cli.doctor_checks import check_llm, check_mqtt, check_nats, secrets_status
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import dispose_engine, probe_database


async def _check_redis(url: str) -> str:
    if not url:
        return "not configured"
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=2)  # type: ignore[no-untyped-call]
    try:
        await client.ping()
        return "up"
    except (OSError, aioredis.RedisError) as exc:
        return f"down ({exc})"
    finally:
        await client.aclose()


async def _checks() -> dict[str, str]:
    settings = get_settings()
    try:
        db_ok = await probe_database(force=True)
    finally:
        await dispose_engine()
    redis, nats, mqtt, llm = await asyncio.gather(
        _check_redis(settings.messaging.redis_url),
        check_nats(settings.messaging.nats_url),
        check_mqtt(settings),
        check_llm(settings),
    )
    return {"database": "up" if db_ok else "down", "redis": redis, "nats": nats, "mqtt": mqtt, "llm": llm}


def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Show the effective configuration (secrets masked), which secrets are set, and each service's state."""
    settings = get_settings()
    checks = asyncio.run(_checks())
    secrets = secrets_status(settings)
    if as_json:
        console.print_json(
            json.dumps({"settings": settings.redacted(), "secrets": secrets, "checks": checks})
        )
    else:
        table = Table("setting", "value", title="AuroraSOC effective configuration")
        for key, value in settings.redacted().items():
            if isinstance(value, dict):
                for sub, sub_value in value.items():
                    table.add_row(f"{key}.{sub}", str(sub_value))
            else:
                table.add_row(key, str(value))
        console.print(table)
        console.print("secrets: " + ", ".join(f"{name} {state}" for name, state in secrets.items()))
        for name, state in checks.items():
            colour = "green" if state in {"up", "not configured"} else "red"
            console.print(f"{name}: [{colour}]{state}[/{colour}]")
    if checks["database"] != "up":
        raise typer.Exit(1)
