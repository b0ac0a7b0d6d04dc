"""Closed cases become episodic memory (spec §17 tier 2), so agents recall similar past cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.snapshot import build_snapshot
from aurorasoc.memory import DEFAULT_MEMORY, TieredAgentMemory


async def remember_closed_case(session: AsyncSession, case: CaseModel) -> bool:
    """Store the case's snapshot; call after the closing commit (the store opens its own session).

    Never raises: a memory failure must not fail closing the case.
    """
    snapshot = await build_snapshot(session, case)
    return await TieredAgentMemory(DEFAULT_MEMORY).store_case(snapshot)
