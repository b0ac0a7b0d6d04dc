"""``aurorasoc agent serve NAME``: run one agent as its own A2A service."""

from __future__ import annotations

import typer

from aurorasoc.agents.a2a import build_app
from aurorasoc.agents.specs import AGENT_SPECS
from aurorasoc.cli.common import ensure_schema, fail
from aurorasoc.core.config import get_settings
from aurorasoc.core.vocabulary import AgentType

app = typer.Typer(help="Run agents as services.", no_args_is_help=True)


@app.command("serve")
def serve(
    name: str = typer.Argument(..., help="Agent name, e.g. security_analyst"),
    host: str = typer.Option("127.0.0.1", help="Bind address"),
    port: int | None = typer.Option(None, help="Port (default AURORA_A2A_BASE_PORT + the agent's index)"),
) -> None:
    """Serve /.well-known/agent.json, /health, POST /task and /metrics for one agent."""
    import uvicorn

    try:
        spec = AGENT_SPECS[AgentType(name)]
    except ValueError:
        fail(f"unknown agent {name!r}; one of: {', '.join(a.value for a in AgentType)}")
    ensure_schema()
    cfg = get_settings().agents
    uvicorn.run(
        build_app(spec.agent_type), host=host, port=port or cfg.agent_port or cfg.a2a_base_port + spec.index
    )
