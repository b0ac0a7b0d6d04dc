"""``aurorasoc ingest --enqueue``: queue the files' events for the shared detection workers."""

from __future__ import annotations

from pathlib import Path

from aurorasoc.cli.common import console, err_console, fail, run
from aurorasoc.core.config import get_settings
from aurorasoc.siem.log_stream import LOGS_STREAM, enqueue_files


def enqueue(files: list[Path], fmt: str, source: str | None) -> None:
    """Publish instead of detecting here: `aurorasoc worker --role detection` stores and evaluates."""
    redis_url = get_settings().messaging.redis_url
    if not redis_url:
        fail("--enqueue needs AURORA_REDIS_URL (the Redis the detection workers consume)", code=2)
    result = run(lambda: enqueue_files(redis_url, files, fmt=fmt, source=source))
    console.print(
        f"{result.accepted} events queued on {LOGS_STREAM} from {len(files)} file(s); "
        f"{result.rejected} records rejected",
        highlight=False,
    )
    for error in result.errors:
        err_console.print(f"  parse error at {error.position}: {error.message}", highlight=False)
