"""Structured logging (structlog): JSON lines by default, console rendering on request."""

from __future__ import annotations

import logging
import re
import sys

import structlog

from aurorasoc.core.config import Settings

_SECRET_KEYS = {"password", "token", "access_token", "api_key", "secret", "authorization", "jwt_secret_key"}


def _redact(_logger: object, _name: str, event_dict: dict[str, object]) -> dict[str, object]:
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "********"
    return event_dict


# ``name=value`` pairs of a URL query (or form) whose value is a credential: uvicorn logs WebSocket
# URLs with their query string, so a client that still sends ``?token=`` must not leak it.
_URL_SECRET = re.compile(
    r"(?i)(\b(?:access_token|token|api_key|apikey|key|ticket|password|secret|code|state)=)[^&\s\"']+"
)


def redact_url_secrets(text: str) -> str:
    """``/ws/alerts?token=eyJ…`` → ``/ws/alerts?token=********``."""
    return _URL_SECRET.sub(r"\1********", text)


def _redact_messages(_logger: object, _name: str, event_dict: dict[str, object]) -> dict[str, object]:
    for key in ("event", "path", "url"):
        value = event_dict.get(key)
        if isinstance(value, str) and "=" in value:
            event_dict[key] = redact_url_secrets(value)
    return event_dict


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.observability.log_level)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,  # type: ignore[list-item]
        _redact_messages,  # type: ignore[list-item]
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.observability.log_format == "json"
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "sqlalchemy.engine", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
