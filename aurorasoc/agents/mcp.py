"""The tool plane as an MCP server (official ``mcp`` SDK): stdio or streamable HTTP.

It serves the same :data:`~aurorasoc.agents.tools.registry.TOOLS` agents use, limited to one agent's
``AGENT_MCP_BINDINGS`` domains when ``agent`` is given. Over stdio (a local process of the
machine's owner) calls run with the analyst role's permissions as ``mcp:<agent>``; over HTTP every
request must carry ``Authorization: Bearer <jwt>`` or ``X-API-Key`` and each call runs as that
principal, with its permissions (spec §7-8). Every call is audited (``mcp.tool_call``) under the
acting identity; a refused or failed call comes back with ``isError: true``. Gated tools keep
their approval gate: an MCP client can ask for an approval, never bypass it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from fastapi import HTTPException
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from aurorasoc import __version__
from aurorasoc.agents.specs import AGENT_MCP_BINDINGS
from aurorasoc.agents.tools.base import AuroraTool, ToolContext, error
from aurorasoc.agents.tools.registry import TOOLS, tools_for_domains
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import ROLE_PERMISSIONS, Principal, resolve_principal
from aurorasoc.core.db import session_scope
from aurorasoc.core.vocabulary import Role


def served_tools(agent: str | None = None) -> dict[str, AuroraTool]:
    if agent is None:
        return dict(TOOLS)
    if agent not in AGENT_MCP_BINDINGS:
        raise ValueError(f"unknown agent {agent!r}")
    return {t.name: t for t in tools_for_domains(AGENT_MCP_BINDINGS[agent])}


# The principal of the HTTP request being served; unset over stdio.
_caller: ContextVar[Principal | None] = ContextVar("mcp_caller", default=None)


def build_server(
    agent: str | None = None, role: Role = Role.ANALYST, *, over_http: bool = False
) -> Server[Any, Any]:
    """``role``: the permissions of stdio calls; HTTP calls use the authenticated principal's
    (``over_http``: never fall back to ``role``)."""
    tools = served_tools(agent)
    server: Server[Any, Any] = Server("aurorasoc", version=__version__)
    local = (
        None if over_http else Principal(f"mcp:{agent or 'client'}", role, ROLE_PERMISSIONS[role], "local")
    )

    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(name=t.name, description=t.description, inputSchema=t.Input.model_json_schema())
            for t in tools.values()
        ]

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any] | types.CallToolResult:
        principal = _caller.get() or local
        if principal is None:
            return _error_result(error("unauthenticated", "no authenticated caller"))
        tool = tools.get(name)
        async with session_scope() as session:
            if tool is None:
                result = error("not_found", f"no tool {name!r} here")
            else:
                ctx = ToolContext(session, principal.username, principal.permissions)
                result = await tool.run(ctx, arguments or {})
            await _audit(session, principal, name, arguments, result)
        return _error_result(result) if result.get("status") == "error" else result

    return server


def _error_result(result: dict[str, Any]) -> types.CallToolResult:
    """The tool's error envelope, flagged ``isError`` so MCP clients treat it as a failure."""
    text = json.dumps(result, default=str)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structuredContent=result, isError=True
    )


async def _audit(
    session: Any, principal: Principal, name: str, arguments: dict[str, Any] | None, result: dict[str, Any]
) -> None:
    details = {
        "via": "mcp",
        "arguments": sorted((arguments or {}).keys()),
        "status": result.get("status"),
        "error_code": result.get("error_code"),
    }
    await AuditService(session).record(
        principal.username, principal.actor_type, "mcp.tool_call", "tool", name, details
    )


async def serve_stdio(agent: str | None = None) -> None:
    server = build_server(agent)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
NO_CREDENTIALS = "MCP over HTTP needs Authorization: Bearer <token> or X-API-Key"


async def _http_principal(scope: Any) -> Principal | str:
    """The caller (bearer JWT or API key - never a cookie, so no cross-site use), or why not."""
    try:
        principal = await resolve_principal(Headers(scope=scope), {})
    except HTTPException as exc:
        return str(exc.detail)
    return principal or NO_CREDENTIALS


def http_app(agent: str | None = None) -> Any:
    """A Starlette app serving streamable HTTP on ``/mcp``; every request authenticates."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    manager = StreamableHTTPSessionManager(
        app=build_server(agent, over_http=True), json_response=True, stateless=True
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    async def authenticated(scope: Any, receive: Any, send: Any) -> None:
        principal = await _http_principal(scope)
        if isinstance(principal, str):
            await JSONResponse({"detail": principal}, 401, _CHALLENGE)(scope, receive, send)
            return
        token = _caller.set(principal)
        try:
            await manager.handle_request(scope, receive, send)
        finally:
            _caller.reset(token)

    return Starlette(routes=[Mount("/mcp", app=authenticated)], lifespan=lifespan)
