"""``aurorasoc users``: local account management."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from aurorasoc.access.users import UserService, parse_role
from aurorasoc.cli.common import CLI_ACTOR, console, ensure_schema, fail, run
from aurorasoc.core.db import session_scope
from aurorasoc.core.errors import InvalidInput

app = typer.Typer(help="Manage local user accounts.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            fail("no password on standard input")
        return password
    if not sys.stdin.isatty():
        fail("no terminal to prompt for a password; pass --password-stdin")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name: 3-64 of letters, digits, . _ @ -"),
    role: str = typer.Option(
        "analyst", "--role", "-r", help="admin | analyst | operator | viewer | api_service"
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin"),
    display_name: str | None = typer.Option(None, "--display-name"),
    email: str | None = typer.Option(None, "--email"),
) -> None:
    """Create a local user (password at least 12 characters)."""
    parsed = parse_role_or_exit(role)
    password = _read_password(password_stdin)
    ensure_schema()

    async def _create() -> None:
        async with session_scope() as session:
            await UserService(session).add(
                username, password, parsed, display_name=display_name, email=email, actor=CLI_ACTOR
            )

    run(_create)
    console.print(f"created user [bold]{username}[/bold] with role {parsed.value}")


@app.command("list")
def list_users() -> None:
    """List users with role, provider and state."""
    ensure_schema()

    async def _list() -> list[tuple[str, str, str, str, str]]:
        async with session_scope() as session:
            users, _ = await UserService(session).list(limit=10_000)
            return [
                (
                    u.username,
                    u.role,
                    u.auth_provider,
                    "active" if u.is_active else "disabled",
                    u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "-",
                )
                for u in users
            ]

    table = Table("username", "role", "provider", "state", "last login")
    for row in run(_list):
        table.add_row(*row)
    console.print(table)


@app.command("set-role")
def set_role(username: str, role: str) -> None:
    """Change a user's role (the last active admin cannot be demoted)."""
    parsed = parse_role_or_exit(role)
    ensure_schema()

    async def _set() -> None:
        async with session_scope() as session:
            await UserService(session).edit(username, role=parsed, actor=CLI_ACTOR)

    run(_set)
    console.print(f"{username} is now {parsed.value}")


@app.command("set-password")
def set_password(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin"),
) -> None:
    """Set a local user's password."""
    password = _read_password(password_stdin)
    ensure_schema()

    async def _set() -> None:
        async with session_scope() as session:
            await UserService(session).edit(username, password=password, actor=CLI_ACTOR)

    run(_set)
    console.print(f"password updated for {username}")


@app.command("disable")
def disable(username: str) -> None:
    """Disable a user: their sessions and logins stop working."""
    ensure_schema()

    async def _disable() -> None:
        async with session_scope() as session:
            await UserService(session).edit(username, is_active=False, actor=CLI_ACTOR)

    run(_disable)
    console.print(f"{username} disabled")


def parse_role_or_exit(role: str):  # type: ignore[no-untyped-def]
    try:
        return parse_role(role)
    except InvalidInput as exc:
        fail(exc.message)
