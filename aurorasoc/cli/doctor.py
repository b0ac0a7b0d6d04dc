"""``aurorasoc doctor``: print the effective configuration and check connectivity."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.table import Table

from aurorasoc.cli.common import console
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import dispose_engine, probe_database


async def _check_redis(url: str) -> str:
    if not url:
        return "disabled"
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
    return {"database": "up" if db_ok else "down", "redis": await _check_redis(settings.messaging.redis_url)}


def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Show the effective configuration (secrets masked) and whether the database answers."""
    settings = get_settings()
    checks = asyncio.run(_checks())
    if as_json:
        console.print_json(json.dumps({"settings": settings.redacted(), "checks": checks}))
    else:
        table = Table("setting", "value", title="AuroraSOC effective configuration")
        for key, value in settings.redacted().items():
            if isinstance(value, dict):
                for sub, sub_value in value.items():
                    table.add_row(f"{key}.{sub}", str(sub_value))
            else:
                table.add_row(key, str(value))
        console.print(table)
        for name, state in checks.items():
            colour = "green" if state in {"up", "disabled"} else "red"
            console.print(f"{name}: [{colour}]{state}[/{colour}]")
    if checks["database"] != "up":
        raise typer.Exit(1)
