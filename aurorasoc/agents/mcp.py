"""The tool plane as an MCP server (official ``mcp`` SDK): stdio or streamable HTTP.

It serves the same :data:`~aurorasoc.agents.tools.registry.TOOLS` agents use, limited to one agent's
``AGENT_MCP_BINDINGS`` domains when ``agent`` is given, with the analyst role's permissions.
Gated tools keep their approval gate: an MCP client can ask for an approval, never bypass it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from aurorasoc import __version__
from aurorasoc.agents.specs import AGENT_MCP_BINDINGS
from aurorasoc.agents.tools.base import AuroraTool, ToolContext, error
from aurorasoc.agents.tools.registry import TOOLS, tools_for_domains
from aurorasoc.core.auth import ROLE_PERMISSIONS
from aurorasoc.core.db import session_scope
from aurorasoc.core.vocabulary import Role


def served_tools(agent: str | None = None) -> dict[str, AuroraTool]:
    if agent is None:
        return dict(TOOLS)
    if agent not in AGENT_MCP_BINDINGS:
        raise ValueError(f"unknown agent {agent!r}")
    return {t.name: t for t in tools_for_domains(AGENT_MCP_BINDINGS[agent])}


def build_server(agent: str | None = None, role: Role = Role.ANALYST) -> Server[Any, Any]:
    tools = served_tools(agent)
    server: Server[Any, Any] = Server("aurorasoc", version=__version__)
    permissions = ROLE_PERMISSIONS[role]

    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(name=t.name, description=t.description, inputSchema=t.Input.model_json_schema())
            for t in tools.values()
        ]

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        tool = tools.get(name)
        if tool is None:
            return error("not_found", f"no tool {name!r} here")
        async with session_scope() as session:
            return await tool.run(
                ToolContext(session, f"mcp:{agent or 'client'}", permissions), arguments or {}
            )

    return server


async def serve_stdio(agent: str | None = None) -> None:
    server = build_server(agent)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(agent: str | None = None) -> Any:
    """A Starlette app serving streamable HTTP on ``/mcp``."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    manager = StreamableHTTPSessionManager(app=build_server(agent), json_response=True, stateless=True)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(routes=[Mount("/mcp", app=manager.handle_request)], lifespan=lifespan)
