"""``aurorasoc mcp``: serve the agent tools to external AI clients over MCP."""

from __future__ import annotations

import asyncio
from typing import Literal

import typer

from aurorasoc.agents.mcp import http_app, serve_stdio, served_tools
from aurorasoc.cli.common import ensure_schema, fail


def mcp(
    transport: Literal["stdio", "http"] = typer.Option("stdio", help="stdio, or streamable HTTP on /mcp"),
    agent: str | None = typer.Option(None, help="Serve only this agent's tool domains (AGENT_MCP_BINDINGS)"),
    host: str = typer.Option("127.0.0.1", help="HTTP bind address"),
    port: int = typer.Option(8765, help="HTTP port"),
) -> None:
    """Serve the AuroraSOC tool plane as an MCP server (official MCP SDK)."""
    try:
        served_tools(agent)
    except ValueError as exc:
        fail(str(exc))
    ensure_schema()
    if transport == "stdio":
        asyncio.run(serve_stdio(agent))
        return
    import uvicorn

    uvicorn.run(http_app(agent), host=host, port=port, log_level="warning")
