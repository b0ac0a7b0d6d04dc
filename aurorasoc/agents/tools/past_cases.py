"""Similar closed cases: episodic memory (spec §17 tier 2) first, then indicator overlap in SQL.

Memory finds cases described alike even when no indicator repeats; its best matches are returned
with their scores and a ``match`` label (``indicator``, ``similar``, ``weak``) instead of being cut
at a fixed floor, so a paraphrased query still shows the agent its nearest cases; the SQL pass (Jaccard over
indicators and techniques of recently closed cases) covers cases closed before memory existed.
Both read through the tool's own session, so they see exactly what the tool sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.agents.tools.views import case_view
from aurorasoc.cases.models import CaseModel
from aurorasoc.memory import MemoryConfig, TieredAgentMemory
from aurorasoc.memory.embedder import get_embedder
from aurorasoc.memory.vector_store import BruteForceStore

CLOSED_CASES = ("resolved", "closed")
CASE_SCAN = 500
SIMILAR_SCORE = 0.6  # at or above: "similar"; below (sharing no indicator): "weak" — still shown


def keys_of(*groups: list[str] | None) -> set[str]:
    return {v.lower() for group in groups for v in group or []}


async def similar_closed_cases(
    session: AsyncSession, keys: set[str], limit: int, text: str = ""
) -> list[dict[str, Any]]:
    if not keys and not text:
        return []
    found = await _from_memory(session, keys, limit, text)
    seen = {case["id"] for case in found}
    found += [case for case in await _from_sql(session, keys, limit) if case["id"] not in seen]
    return found[:limit]


async def _from_memory(session: AsyncSession, keys: set[str], limit: int, text: str) -> list[dict[str, Any]]:
    @contextlib.asynccontextmanager
    async def borrowed() -> AsyncIterator[AsyncSession]:
        yield session

    store = BruteForceStore(get_embedder(), borrowed)
    memory = TieredAgentMemory(MemoryConfig(enable_episodic=True, top_k=limit), store=store)
    hits = await memory.recall_similar(" ".join([text, *sorted(keys)]).strip())
    cases = []
    for hit in hits:
        payload = hit["payload"]
        shared = keys & keys_of(payload.get("iocs"), payload.get("techniques"))
        match = "indicator" if shared else "similar" if hit["score"] >= SIMILAR_SCORE else "weak"
        cases.append(
            {
                "id": payload.get("case_id"),
                "title": payload.get("title", ""),
                "status": "closed",
                "resolution_notes": payload.get("resolution"),
                "score": round(float(hit["score"]), 3),
                "match": match,
                "shared": sorted(shared),
                "source": "episodic_memory",
            }
        )
    return cases


async def _from_sql(session: AsyncSession, keys: set[str], limit: int) -> list[dict[str, Any]]:
    if not keys:
        return []
    stmt = select(CaseModel).where(CaseModel.status.in_(CLOSED_CASES)).order_by(CaseModel.updated_at.desc())
    scored = []
    for case in (await session.scalars(stmt.limit(CASE_SCAN))).all():
        other = keys_of(case.iocs, case.mitre_techniques)
        if shared := keys & other:
            scored.append((len(shared) / len(keys | other), case, shared))
    scored.sort(key=lambda item: item[0], reverse=True)
    return [
        {
            **case_view(c),
            "score": round(s, 3),
            "match": "indicator",
            "shared": sorted(sh),
            "source": "case_overlap",
        }
        for s, c, sh in scored[:limit]
    ]
