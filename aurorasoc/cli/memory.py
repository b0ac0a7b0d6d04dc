"""``aurorasoc memory``: maintenance of the agents' vector memory."""

from __future__ import annotations

import typer

from aurorasoc.cli.common import console, ensure_schema, fail, run
from aurorasoc.memory.embedder import EmbedderUnavailable, get_embedder
from aurorasoc.memory.vector_store import BruteForceStore

app = typer.Typer(help="Agent memory maintenance.", no_args_is_help=True)


@app.command("reindex")
def reindex(batch_size: int = typer.Option(200, "--batch-size", min=1, help="Rows per transaction")) -> None:
    """Re-embed stored memories written by another embedder (run after changing AURORA_EMBEDDER)."""
    ensure_schema()
    try:
        store = BruteForceStore(get_embedder())
    except EmbedderUnavailable as exc:
        fail(str(exc))
    done, skipped = run(lambda: store.reindex(batch_size))
    console.print(f"re-embedded {done} memories with {store.embedder.id}; {skipped} without text skipped")
