"""The agent tool plane (spec §16.2): typed platform tools grouped by domain."""

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolFailure
from aurorasoc.agents.tools.registry import TOOLS, tools_for_domains

__all__ = ["TOOLS", "AuroraTool", "ToolContext", "ToolFailure", "tools_for_domains"]
