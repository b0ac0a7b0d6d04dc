"""The ``aurorasoc`` command line.

Commands are imported when they run (or when ``--help`` lists them), not when the CLI starts:
each pulls in its own stack (detection engine, MQTT, agents, Alembic …), and loading all of them
would cost every invocation a second before it does anything.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # Typer 0.29 vendors Click; these are the classes its groups work with
    from typer._click import Command, Context

# name → (module, attribute, whether the attribute is a Typer app of sub-commands)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "users": ("aurorasoc.cli.users", "app", True),
    "rules": ("aurorasoc.cli.rules", "app", True),
    "intel": ("aurorasoc.cli.intel", "app", True),
    "playbooks": ("aurorasoc.cli.playbooks", "app", True),
    "apikeys": ("aurorasoc.cli.apikeys", "app", True),
    "agent": ("aurorasoc.cli.agent", "app", True),
    "cps": ("aurorasoc.cli.cps", "app", True),
    "memory": ("aurorasoc.cli.memory", "app", True),
    "doctor": ("aurorasoc.cli.doctor", "doctor", False),
    "serve": ("aurorasoc.cli.serve", "serve", False),
    "ingest": ("aurorasoc.cli.ingest", "ingest", False),
    "worker": ("aurorasoc.cli.worker", "worker", False),
    "investigate": ("aurorasoc.cli.investigate", "investigate", False),
    "mcp": ("aurorasoc.cli.mcp", "mcp", False),
}


@cache
def load_command(name: str) -> Command:
    module, attribute, is_group = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if is_group:
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="aurorasoc",
    cls=LazyGroup,
    help="AuroraSOC: AI-assisted Security Operations Center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from aurorasoc import __version__

        typer.echo(f"aurorasoc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """AuroraSOC: AI-assisted Security Operations Center."""


@app.command("migrate")
def migrate() -> None:
    """Apply database migrations up to the latest revision (alembic upgrade head)."""
    from sqlalchemy.exc import OperationalError

    from aurorasoc.cli.common import console, fail
    from aurorasoc.core.config import get_settings
    from aurorasoc.core.migrate import upgrade

    try:
        upgrade()
    except (OperationalError, OSError) as exc:
        fail(f"migration failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    console.print(f"database at head ({get_settings().database_url.split('://')[0]})")


if __name__ == "__main__":
    app()
