"""The ``aurorasoc`` command line.

Command modules are imported when their command runs (or when ``--help`` lists them), not when the
CLI starts: each pulls in its own stack (detection engine, MQTT, agents, Alembic …). Measured
(user CPU s): ``aurorasoc --version`` 0.07, ``aurorasoc users --help`` 1.5, ``aurorasoc --help``
(loads every command module) 4.2, so loading them all up front would cost each command ~2.7 s.
Inside a command module, imports are at the top as usual.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from aurorasoc import __version__

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
    "migrate": ("aurorasoc.cli.migrate", "migrate", False),
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
        typer.echo(f"aurorasoc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """AuroraSOC: AI-assisted Security Operations Center."""


if __name__ == "__main__":
    app()
