"""Routers that turn a request away at once when none of their routes can match it.

FastAPI matches a request by walking every included router, and every route of each, in order:
~1 us per route, so a request for the last router (``/siem/…``, the console's files) spent
~250 us in matching before any work. A route's path starts with a literal part (up to its first
``{``), and a request it matches contains that part, so a router none of whose literal parts
occurs in the path cannot match and is skipped without walking its routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class IndexedRouter(APIRouter):
    """An ``APIRouter`` that skips, by substring checks, requests none of its routes can match."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._heads: tuple[str, ...] = ()
        self._indexed = -1  # how many routes the heads were taken from

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        heads = self._route_heads()
        path = scope.get("path", "")
        if heads and not any(head in path for head in heads):
            return Match.NONE, {}
        return super().matches(scope)

    def _route_heads(self) -> tuple[str, ...]:
        """Each route's literal head; empty (never skip) when a route has none or no path."""
        if self._indexed != len(self.routes):
            heads: set[str] = set()
            for route in self.routes:
                path = getattr(route, "path", None)
                head = path.split("{", 1)[0] if isinstance(path, str) else ""
                if head in ("", "/"):
                    heads = set()
                    break
                heads.add(head)
            self._heads, self._indexed = tuple(sorted(heads)), len(self.routes)
        return self._heads
