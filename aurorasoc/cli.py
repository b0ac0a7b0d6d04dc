"""The ``aurorasoc`` command line."""

from __future__ import annotations

import typer

from aurorasoc.commands import agent as agent_cmd
from aurorasoc.commands import apikeys as apikeys_cmd
from aurorasoc.commands import cps as cps_cmd
from aurorasoc.commands import doctor as doctor_cmd
from aurorasoc.commands import ingest as ingest_cmd
from aurorasoc.commands import investigate as investigate_cmd
from aurorasoc.commands import mcp as mcp_cmd
from aurorasoc.commands import memory as memory_cmd
from aurorasoc.commands import playbooks as playbooks_cmd
from aurorasoc.commands import rules as rules_cmd
from aurorasoc.commands import serve as serve_cmd
from aurorasoc.commands import users as users_cmd
from aurorasoc.commands import worker as worker_cmd
from aurorasoc.commands.common import console, fail

app = typer.Typer(
    name="aurorasoc",
    help="AuroraSOC: AI-assisted Security Operations Center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(users_cmd.app, name="users")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(playbooks_cmd.app, name="playbooks")
app.add_typer(apikeys_cmd.app, name="apikeys")
app.add_typer(agent_cmd.app, name="agent")
app.add_typer(cps_cmd.app, name="cps")
app.add_typer(memory_cmd.app, name="memory")
app.command("doctor")(doctor_cmd.doctor)
app.command("serve")(serve_cmd.serve)
app.command("ingest")(ingest_cmd.ingest)
app.command("worker")(worker_cmd.worker)
app.command("investigate")(investigate_cmd.investigate)
app.command("mcp")(mcp_cmd.mcp)


@app.command("migrate")
def migrate() -> None:
    """Apply database migrations up to the latest revision (alembic upgrade head)."""
    from sqlalchemy.exc import OperationalError

    from aurorasoc.config.settings import get_settings
    from aurorasoc.core.migrate import upgrade

    try:
        upgrade()
    except (OperationalError, OSError) as exc:
        fail(f"migration failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
    console.print(f"database at head ({get_settings().database_url.split('://')[0]})")


if __name__ == "__main__":
    app()
