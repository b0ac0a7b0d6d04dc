"""Rule exceptions applied inside the engine (issue #16 scope 2): "not when these fields hold these values".

An exception names one rule, a set of field conditions (case-insensitive equality, the way analysts read
them) and optionally a host; it may expire. A hit of that rule on an event that meets every condition is
dropped by ``SigmaEngine.evaluate`` before it can become an alert; anything else still fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aurorasoc.detection.sigma.compile import EventView


def _norm(value: Any) -> str:
    return str(value).strip().lower()


@dataclass(frozen=True)
class RuleExceptionSpec:
    """The matching part of one stored exception."""

    id: str
    rule_uid: str
    conditions: tuple[tuple[str, str], ...]
    host: str | None = None
    expires_at: datetime | None = None

    @classmethod
    def of(
        cls,
        ident: str,
        rule_uid: str,
        conditions: dict[str, Any],
        host: str | None = None,
        expires_at: datetime | None = None,
    ) -> RuleExceptionSpec:
        pairs = tuple(sorted((name, _norm(value)) for name, value in conditions.items()))
        return cls(ident, rule_uid, pairs, _norm(host) if host else None, expires_at)

    def matches(self, view: EventView, now: datetime | None = None) -> bool:
        """Whether the event meets every condition (and the host), and the exception has not expired."""
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return False
        if self.host is not None and _norm(view.event.host or view.get("Computer") or "") != self.host:
            return False
        for name, expected in self.conditions:
            value = view.get(name)
            if value is None or _norm(value) != expected:
                return False
        return True
