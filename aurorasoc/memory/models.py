"""The table of semantic memory (spec §17): one vector per remembered source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aurorasoc.core.models_base import Base, _Mutable
from aurorasoc.core.types import JSONType


class VectorEmbeddingModel(_Mutable, Base):
    """Memory vectors (spec §17): float32 bytes, ranked by brute-force cosine (no pgvector here)."""

    __tablename__ = "vector_embeddings"
    __table_args__ = (UniqueConstraint("collection", "source_id", name="uq_vector_embeddings_source"),)

    collection: Mapped[str] = mapped_column(String(64), nullable=False)
    source_id: Mapped[str] = mapped_column(String(128), nullable=False)
    embedder: Mapped[str] = mapped_column(String(64), nullable=False)
    embedding: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
