"""Domain errors raised by services; the API maps them to HTTP, the CLI to one-line messages."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on: carries a stable code and an HTTP status."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid_input"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"
