"""``aurorasoc apikeys``: issue, list and revoke API keys for services and forwarders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import typer

from aurorasoc.access.api_keys import MAX_KEY_DAYS, ApiKeyService, IssuedApiKey
from aurorasoc.cli.common import CLI_ACTOR, console, ensure_schema, err_console, fail, run
from aurorasoc.core.db import session_scope
from aurorasoc.core.models_platform import ApiKeyModel

app = typer.Typer(help="Manage API keys for services.", no_args_is_help=True)

LIST_HEADER = ("id", "label", "service", "state", "expires", "last_used", "permissions")


@app.command("create")
def create(
    service: str = typer.Option(..., "--service", "-s", help="Name the key acts as (audit actor)"),
    days: int | None = typer.Option(
        None, "--days", min=1, max=MAX_KEY_DAYS, help="Expire after N days (default: never)"
    ),
    perms: list[str] | None = typer.Option(
        None, "--perm", "-p", help="Permission to grant (repeatable; default: the api_service set)"
    ),
) -> None:
    """Create a key and print it once on stdout; only its SHA-256 is stored."""
    ensure_schema()

    async def _create() -> IssuedApiKey:
        async with session_scope() as session:
            return await ApiKeyService(session).issue(
                service, expires_in_days=days, permissions=perms or None, actor=CLI_ACTOR
            )

    issued = run(_create)
    key = issued.key
    err_console.print(
        f"created API key {key.key_prefix} ({key.id}) for [bold]{key.service_name}[/bold] "
        f"with {', '.join(key.permissions)}; store it now, it will not be shown again:",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(issued.raw_key)


@app.command("list")
def list_keys() -> None:
    """List keys with their label, permissions and state (never the key or its hash)."""
    ensure_schema()

    async def _list() -> list[tuple[str, ...]]:
        async with session_scope() as session:
            keys, _ = await ApiKeyService(session).list(limit=10_000)
            return [
                (
                    str(k.id),
                    k.key_prefix,
                    k.service_name,
                    _state(k),
                    k.expires_at.isoformat(timespec="seconds") if k.expires_at else "never",
                    k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "-",
                    ",".join(k.permissions),
                )
                for k in keys
            ]

    # Tab-separated rather than a table: rows are wide, and `apikeys revoke` needs the whole id.
    for row in [LIST_HEADER, *run(_list)]:
        typer.echo("\t".join(row))


def _state(key: ApiKeyModel) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        return "expired"
    return "active"


@app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (see `apikeys list`)")) -> None:
    """Revoke a key. Running API processes drop it within AURORA_API_KEY_CACHE_TTL_SECONDS."""
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        fail(f"'{key_id}' is not a key id (a UUID from `aurorasoc apikeys list`)")
    ensure_schema()

    async def _revoke() -> None:
        async with session_scope() as session:
            await ApiKeyService(session).withdraw(parsed, actor=CLI_ACTOR)

    run(_revoke)
    console.print(f"API key {parsed} revoked")
