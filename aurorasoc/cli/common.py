"""Helpers shared by CLI commands: running coroutines and turning failures into one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

# Every table on Base.metadata in each command's process: a flush resolves foreign keys by table name.
import aurorasoc.core.models  # noqa: F401
from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import dispose_engine
from aurorasoc.core.errors import DomainError
from aurorasoc.core.migrate import upgrade

T = TypeVar("T")
CLI_ACTOR = Actor("cli", "system")  # who the audit trail names for changes made from this machine's shell
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()`` on a fresh loop; domain and database errors exit with a one-line reason."""

    async def _main() -> T:
        try:
            return await func()
        finally:
            await dispose_engine()

    try:
        return asyncio.run(_main())
    except DomainError as exc:
        fail(exc.message)
    except (OperationalError, OSError) as exc:
        fail(f"database unreachable ({get_settings().database_url.split('://')[0]}): {first_line(exc)}")
    except SQLAlchemyError as exc:
        fail(f"database error: {first_line(exc)}")


def ensure_schema() -> None:
    """Bring the database to the latest migration before a command touches it."""
    try:
        upgrade()
    except (OperationalError, OSError) as exc:
        fail(f"cannot migrate the database: {first_line(exc)}")


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
