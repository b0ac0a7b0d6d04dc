"""The tool contract (spec §16.2): typed input, a domain, an action class and an error boundary.

A tool never raises to its caller: ``run()`` turns validation, permission, mode, timeout and
domain failures into the envelope ``{"status": "error", "error_code", "error"}`` so an agent (or
an MCP client) always gets data back. Tools whose class acts outside the platform go through an
approval: they check one and never act on their own say-so.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.errors import DomainError, NotFound, PermissionDenied
from aurorasoc.core.vocabulary import ActionClass

log = logging.getLogger(__name__)
GATED_CLASSES = frozenset({ActionClass.WRITE_EXTERNAL, ActionClass.ACTUATE, ActionClass.DESTRUCTIVE})
ToolResult = dict[str, Any]


@dataclass
class ToolContext:
    """Who is calling, on whose behalf, and about what (case/alert/investigation)."""

    session: AsyncSession
    actor: str
    permissions: frozenset[str]
    investigation_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    alert_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions


class ToolFailure(Exception):
    """A refusal with a stable code (``not_configured``, ``upstream_unavailable``, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error(code: str, message: str) -> ToolResult:
    return {"status": "error", "error_code": code, "error": message}


class AuroraTool(ABC):
    """One capability offered to agents and MCP clients. The docstring is the model-facing text."""

    name: ClassVar[str]
    domain: ClassVar[str]
    Input: ClassVar[type[BaseModel]]
    action_class: ClassVar[ActionClass] = ActionClass.READ
    permission: ClassVar[str]
    timeout_seconds: ClassVar[float] = 30

    @property
    def description(self) -> str:
        return " ".join((self.__doc__ or self.name).split())

    @property
    def gated(self) -> bool:
        return self.action_class in GATED_CLASSES

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling definition."""
        params = self.Input.model_json_schema()
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }

    async def run(self, ctx: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        """Validate, authorise, run under a timeout; every failure becomes an error envelope."""
        unknown = sorted(set(arguments) - set(self.Input.model_fields))
        if unknown:
            return error("invalid_input", f"unknown argument(s): {', '.join(unknown)[:200]}")
        try:
            args = self.Input.model_validate(arguments)
        except ValidationError as exc:
            return error("invalid_input", _validation_text(exc))
        if not ctx.can(self.permission):
            return error("permission_denied", f"{self.name} needs permission {self.permission}")
        if self.action_class is not ActionClass.READ and not runtime.write_allowed("operator"):
            return error(
                "permission_denied", f"{self.name} writes; {runtime.current_mode().value} mode blocks it"
            )
        try:
            # asyncio.timeout keeps a shutdown's cancel; 3.11's wait_for may lose it
            async with asyncio.timeout(self.timeout_seconds):
                return await self.execute(ctx, args)
        except TimeoutError:
            return error("timeout", f"{self.name} did not finish within {self.timeout_seconds:g}s")
        except ToolFailure as exc:
            return error(exc.code, exc.message)
        except NotFound as exc:
            return error("not_found", exc.message)
        except PermissionDenied as exc:
            return error("permission_denied", exc.message)
        except DomainError as exc:
            return error("invalid_input", exc.message)
        except Exception:
            log.exception("tool %s failed", self.name)
            return error("internal", f"{self.name} failed unexpectedly")

    @abstractmethod
    async def execute(self, ctx: ToolContext, args: Any) -> ToolResult:
        """The tool body; raises DomainError/ToolFailure to refuse."""


def _validation_text(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()]
    return "; ".join(parts)[:500]
