"""Vectors in the ``vector_embeddings`` table, ranked by numpy cosine (spec §17).

pgvector is optional in the spec and absent here, so one brute-force store serves SQLite and
PostgreSQL alike: float32 bytes in a binary column, the newest ``max_rows`` rows of a collection
made by the current embedder loaded and scored in one matrix product.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypedDict

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.db import session_scope
from aurorasoc.core.types import utcnow
from aurorasoc.memory.embedder import DIM, Embedder
from aurorasoc.memory.models import VectorEmbeddingModel as Row

SessionProvider = Callable[[], AbstractAsyncContextManager[AsyncSession]]
MAX_ROWS = 20_000


class VectorHit(TypedDict):
    source_id: str
    score: float
    payload: dict[str, Any]


class BruteForceStore:
    """Upsert and cosine search over one table; the embedder embeds both documents and queries.

    ``sessions`` yields a session per operation and commits on exit (default: ``session_scope``),
    so memory writes never ride on a caller's transaction.
    """

    def __init__(
        self, embedder: Embedder, sessions: SessionProvider = session_scope, *, max_rows: int = MAX_ROWS
    ):
        self.embedder = embedder
        self.sessions = sessions
        self.max_rows = max_rows

    async def upsert(
        self, collection: str, source_id: str, text: str, payload: dict[str, Any] | None = None
    ) -> None:
        """Store ``text`` (kept in ``payload["text"]`` so a reindex can re-embed it)."""
        vector = (await self.embedder.embed([text]))[0]
        values = {
            "collection": collection,
            "source_id": source_id,
            "embedder": self.embedder.id,
            "embedding": _to_bytes(vector),
            "payload": {**(payload or {}), "text": text},
        }
        async with self.sessions() as session:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            stmt = insert(Row).values(id=uuid.uuid4(), created_at=utcnow(), updated_at=utcnow(), **values)
            changed = {k: stmt.excluded[k] for k in ("embedder", "embedding", "payload", "updated_at")}
            await session.execute(
                stmt.on_conflict_do_update(index_elements=["collection", "source_id"], set_=changed)
            )

    async def get(self, collection: str, source_id: str) -> dict[str, Any] | None:
        async with self.sessions() as session:
            stmt = select(Row.payload).where(Row.collection == collection, Row.source_id == source_id)
            payload: dict[str, Any] | None = await session.scalar(stmt)
            return payload

    async def search(self, collection: str, query: str, top_k: int = 5) -> list[VectorHit]:
        """The ``top_k`` most cosine-similar rows, best first; rows of other embedders are ignored."""
        if top_k <= 0:
            return []
        query_vector = (await self.embedder.embed([query]))[0]
        if not np.any(query_vector):
            return []
        async with self.sessions() as session:
            stmt = (
                select(Row.id, Row.embedding)
                .where(Row.collection == collection, Row.embedder == self.embedder.id)
                .order_by(Row.updated_at.desc())
                .limit(self.max_rows)
            )
            rows = (await session.execute(stmt)).all()
            if not rows:
                return []
            scores = _cosine(
                np.frombuffer(b"".join(r.embedding for r in rows), dtype=np.float32), query_vector
            )
            best = {rows[i].id: float(scores[i]) for i in np.argsort(-scores, kind="stable")[:top_k]}
            found = await session.execute(
                select(Row.id, Row.source_id, Row.payload).where(Row.id.in_(list(best)))
            )
            by_id = {r.id: r for r in found}
        return [  # payloads are loaded for the winners only, not for every ranked row
            VectorHit(source_id=by_id[i].source_id, score=round(score, 6), payload=by_id[i].payload)
            for i, score in best.items()
        ]

    async def reindex(self, batch_size: int = 200) -> tuple[int, int]:
        """Re-embed rows written by another embedder; returns (re-embedded, skipped without text)."""
        done = skipped = 0
        last: uuid.UUID | None = None
        while True:
            async with self.sessions() as session:
                stmt = select(Row.id, Row.payload).where(Row.embedder != self.embedder.id)
                if last is not None:
                    stmt = stmt.where(Row.id > last)
                batch = (await session.execute(stmt.order_by(Row.id).limit(batch_size))).all()
                if not batch:
                    return done, skipped
                last = batch[-1].id
                todo = [r for r in batch if isinstance((r.payload or {}).get("text"), str)]
                skipped += len(batch) - len(todo)
                if todo:
                    await self._reembed(session, todo)
                done += len(todo)

    async def _reembed(self, session: AsyncSession, rows: Sequence[Any]) -> None:
        vectors = await self.embedder.embed([r.payload["text"] for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            values = {"embedder": self.embedder.id, "embedding": _to_bytes(vector), "updated_at": utcnow()}
            await session.execute(update(Row).where(Row.id == row.id).values(**values))


def _cosine(flat: np.ndarray[Any, Any], query: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    matrix = flat.reshape(-1, DIM)
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query))
    return np.asarray(matrix @ query / np.where(norms == 0, 1.0, norms))


def _to_bytes(vector: np.ndarray[Any, Any]) -> bytes:
    return np.asarray(vector, dtype=np.float32).reshape(DIM).tobytes()
