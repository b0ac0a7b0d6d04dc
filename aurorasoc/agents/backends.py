"""Choosing the model backend: the configured OpenAI-compatible client, or the offline analyst."""

from __future__ import annotations

from aurorasoc.agents.llm import ChatBackend, LLMClient
from aurorasoc.agents.offline import OfflineAnalyst
from aurorasoc.core.config import AgentSettings, get_settings


def create_backend(settings: AgentSettings | None = None, *, orchestrator: bool = False) -> ChatBackend:
    """The configured LLM client, or the offline analyst when ``AURORA_LLM_BASE_URL`` is empty."""
    cfg = settings or get_settings().agents
    if not cfg.configured:
        return OfflineAnalyst()
    model = (cfg.orchestrator_model if orchestrator else cfg.llm_model) or "default"
    return LLMClient(cfg.llm_base_url, model, api_key=cfg.llm_api_key, timeout=cfg.llm_timeout_seconds)
