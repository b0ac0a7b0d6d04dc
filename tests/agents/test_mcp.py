"""``aurorasoc mcp`` over stdio, driven by the official MCP client: list the tools, call one."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from aurorasoc.core.db import dispose_engine, session_scope
from aurorasoc.core.migrate import upgrade
from aurorasoc.core.models import AlertModel


async def seeded_alert() -> str:
    await asyncio.to_thread(upgrade)
    async with session_scope() as session:
        alert = AlertModel(title="MCP seeded alert", severity="critical", source="mcp", iocs=["198.51.100.4"])
        session.add(alert)
    await dispose_engine()
    return str(alert.id)


def server(*extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "aurorasoc.cli", "mcp", *extra], env=dict(os.environ)
    )


@pytest.mark.slow  # each test starts a real `aurorasoc mcp` process: seconds
class TestMcpStdio:
    async def test_lists_tools_and_calls_one(self):
        alert_id = await seeded_alert()
        async with stdio_client(server()) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert {"search_alerts", "enrich_ioc", "execute_playbook"} <= set(tools)
            assert tools["search_alerts"].inputSchema["type"] == "object"
            result = await session.call_tool("search_alerts", {"alert_id": alert_id})
        payload = json.loads(result.content[0].text)  # type: ignore[union-attr]
        assert payload["status"] == "ok" and payload["alerts"][0]["title"] == "MCP seeded alert"

    async def test_agent_binding_limits_the_served_tools(self):
        await seeded_alert()
        async with (
            stdio_client(server("--agent", "security_analyst")) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            refused = await session.call_tool("execute_playbook", {"playbook": "x"})
        assert names == {
            "search_alerts",
            "search_logs",
            "correlate_events",
            "mitre_map",
            "alert_events",
            "host_timeline",
            "host_alerts",
            "where_else",
        }
        assert json.loads(refused.content[0].text)["error_code"] == "not_found"  # type: ignore[union-attr]
