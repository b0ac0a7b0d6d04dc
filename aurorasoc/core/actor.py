"""Who performs a change: the value services put in the audit trail (spec §22).

Routes build it from the authenticated principal and the client address; the CLI, agent tools and
automation build it from their own identity. Services take it so the audit row, the write and the
commit happen in one place whoever calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal


@dataclass(frozen=True)
class Actor:
    username: str
    actor_type: str = "user"
    ip: str | None = None

    @classmethod
    def of(cls, principal: Principal, ip: str | None = None) -> Actor:
        """The acting principal as the audit trail names it (API keys are ``api_key`` actors)."""
        return cls(principal.username, principal.actor_type, ip)

    async def audit(
        self, session: AsyncSession, action: str, resource: tuple[str, str], details: dict[str, Any]
    ) -> None:
        """One audit row in ``session``: it commits (or rolls back) with the change it describes."""
        await AuditService(session).record(
            self.username, self.actor_type, action, resource[0], resource[1], details, ip=self.ip
        )
