"""One plain-text completion from the configured OpenAI-compatible model (no tools, no agent loop).

For capabilities below the agents layer that only need a model to *write* something from facts they
already hold — the SIEM's question → query, a case summary. The agent runtime keeps its own client
(tool calling, budgets, circuit breakers) in ``aurorasoc.agents.llm``. The SDK is imported on use:
offline runs never pay for it.
"""

from __future__ import annotations

from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import ServiceUnavailable

TIMEOUT_S = 20.0


def model_configured() -> bool:
    return get_settings().agents.configured


async def complete_text(system: str, user: str) -> str:
    """The model's answer; :class:`ServiceUnavailable` (``llm_unavailable``) when it gives none."""
    import openai

    cfg = get_settings().agents
    client = openai.AsyncOpenAI(
        base_url=cfg.llm_base_url, api_key=cfg.llm_api_key or "not-needed", timeout=TIMEOUT_S, max_retries=1
    )
    try:
        response = await client.chat.completions.create(
            model=cfg.llm_model or "default",
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        )
    except openai.APIError as exc:
        raise ServiceUnavailable(
            f"the model is not reachable ({type(exc).__name__})", code="llm_unavailable"
        ) from exc
    finally:
        await client.close()
    content = (response.choices[0].message.content or "").strip() if response.choices else ""
    if not content:
        raise ServiceUnavailable("the model returned nothing", code="llm_unavailable")
    return content
