"""Tests for aurorasoc.memory.embedder, aurorasoc.memory.vector_store and ``aurorasoc memory reindex``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import types
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import numpy as np
import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from aurorasoc.cli import app
from aurorasoc.core.config import get_settings, reset_settings
from aurorasoc.memory import embedder as embedder_mod
from aurorasoc.memory.embedder import (
    DIM,
    EmbedderUnavailable,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    Vectors,
    get_embedder,
)
from aurorasoc.memory.models import VectorEmbeddingModel
from aurorasoc.memory.vector_store import BruteForceStore

TEXT = "Emotet phishing wave, T1566.001, 185.220.101.4"


@pytest.fixture(autouse=True)
def _fresh_embedders():  # type: ignore[no-untyped-def]
    embedder_mod.clear_embedder_cache()
    yield
    embedder_mod.clear_embedder_cache()


class LegacyEmbedder(HashingEmbedder):
    """Stands in for a previously configured embedder: same maths, another id."""

    id = "legacy-v0"


def _scope(session: AsyncSession):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        yield session

    return scope


class TestHashingEmbedder:
    def test_vectors_are_unit_length_and_384_wide(self):
        vector = HashingEmbedder().embed_one(TEXT)
        assert vector.shape == (DIM,) and vector.dtype == np.float32
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-6)

    def test_single_short_token_is_one_signed_bucket(self):
        """'ab' has no 3-grams: one feature at blake2b(8 bytes) % 384, negative when the top bit is set."""
        h = int.from_bytes(hashlib.blake2b(b"ab", digest_size=8).digest(), "big")
        vector = HashingEmbedder().embed_one("AB")
        assert np.count_nonzero(vector) == 1
        assert vector[h % DIM] == (-1.0 if h >> 63 else 1.0)

    def test_empty_text_is_the_zero_vector(self):
        assert not np.any(HashingEmbedder().embed_one("  !!! "))

    @pytest.mark.slow  # a fresh interpreter importing numpy and aurorasoc: seconds
    def test_identical_in_another_process(self):
        code = (
            "import sys; from aurorasoc.memory.embedder import HashingEmbedder; "
            f"sys.stdout.write(HashingEmbedder().embed_one({TEXT!r}).tobytes().hex())"
        )
        env = {"PYTHONHASHSEED": "12345", "PATH": ""}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert bytes.fromhex(out.stdout) == HashingEmbedder().embed_one(TEXT).tobytes()

    def test_shared_indicators_raise_similarity(self):
        e = HashingEmbedder()
        related = float(e.embed_one(TEXT) @ e.embed_one("beacon to 185.220.101.4 after phishing"))
        unrelated = float(e.embed_one(TEXT) @ e.embed_one("disk usage above threshold on db-02"))
        assert related > 0.3 > unrelated


class _FakeModel:
    loaded_with: dict[str, object] = {}

    def __init__(self, name: str, **kwargs: object) -> None:
        if name == "missing-model":
            raise OSError("not found in the local cache")
        _FakeModel.loaded_with = {"name": name, **kwargs}

    def get_sentence_embedding_dimension(self) -> int:
        return DIM

    def encode(self, texts: Sequence[str], normalize_embeddings: bool) -> Vectors:
        assert normalize_embeddings
        return np.stack([HashingEmbedder().embed_one(t) for t in texts])


class TestEmbedderSelection:
    @pytest.fixture(autouse=True)
    def _auto(self, monkeypatch):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("AURORA_EMBEDDER", "auto")  # conftest pins hashing for everything else
        reset_settings()

    def test_auto_falls_back_to_hashing_without_the_package(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
        assert get_embedder().id == "hashing-v1"

    def test_explicit_sentence_transformers_without_the_package_fails(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "sentence_transformers", None)
        monkeypatch.setenv("AURORA_EMBEDDER", "sentence_transformers")
        reset_settings()
        with pytest.raises(EmbedderUnavailable, match="not installed"):
            get_embedder()

    async def test_auto_loads_a_local_model_offline(self, monkeypatch):
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        fake = types.SimpleNamespace(SentenceTransformer=_FakeModel)
        monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
        embedder = get_embedder()
        assert isinstance(embedder, SentenceTransformerEmbedder) and embedder.id == "minilm-l6-v2"
        # the packaged model's directory when the [ml] extra ships it, else the name itself
        expected = embedder_mod.local_model_path("all-MiniLM-L6-v2")
        assert _FakeModel.loaded_with == {"name": expected, "local_files_only": True}
        assert embedder_mod.os.environ["HF_HUB_OFFLINE"] == "1"
        vectors = await embedder.embed(["a b c", TEXT])
        assert vectors.shape == (2, DIM)

    def test_auto_uses_hashing_when_the_model_is_not_on_disk(self, monkeypatch):
        monkeypatch.setitem(
            sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=_FakeModel)
        )
        monkeypatch.setenv("AURORA_EMBEDDING_MODEL", "missing-model")
        reset_settings()
        assert get_embedder().id == "hashing-v1"


class TestBruteForceStore:
    async def test_upsert_replaces_by_collection_and_source(self, any_db_session):
        store = BruteForceStore(HashingEmbedder(), _scope(any_db_session))
        await store.upsert("c", "one", "first text", {"n": 1})
        await store.upsert("c", "one", "second text", {"n": 2})
        await store.upsert("other", "one", "first text")
        rows = (await any_db_session.scalars(select(VectorEmbeddingModel).order_by("collection"))).all()
        assert [(r.collection, r.source_id) for r in rows] == [("c", "one"), ("other", "one")]
        assert rows[0].payload == {"n": 2, "text": "second text"}
        assert len(rows[0].embedding) == DIM * 4
        assert await store.get("c", "one") == {"n": 2, "text": "second text"}
        assert await store.get("c", "absent") is None

    async def test_search_ignores_other_embedders_and_collections(self, any_db_session):
        scope = _scope(any_db_session)
        current, legacy = BruteForceStore(HashingEmbedder(), scope), BruteForceStore(LegacyEmbedder(), scope)
        await legacy.upsert("c", "old", TEXT)
        await current.upsert("c", "new", TEXT)
        await current.upsert("elsewhere", "x", TEXT)
        hits = await current.search("c", TEXT, top_k=5)
        assert [h["source_id"] for h in hits] == ["new"]
        assert hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
        assert await current.search("c", "", top_k=5) == []
        assert await current.search("c", TEXT, top_k=0) == []

    async def test_only_the_newest_rows_are_ranked(self, any_db_session):
        store = BruteForceStore(HashingEmbedder(), _scope(any_db_session), max_rows=3)
        await store.upsert("c", "oldest", TEXT)  # the best match, but outside the newest three
        for i in range(3):
            await store.upsert("c", f"n{i}", f"unrelated note {i} about backups")
        assert "oldest" not in [h["source_id"] for h in await store.search("c", TEXT, top_k=5)]
        assert (await BruteForceStore(HashingEmbedder(), _scope(any_db_session)).search("c", TEXT))[0][
            "source_id"
        ] == "oldest"

    async def test_reindex_moves_rows_to_the_current_embedder(self, any_db_session):
        scope = _scope(any_db_session)
        await BruteForceStore(LegacyEmbedder(), scope).upsert("c", "a", TEXT)
        await BruteForceStore(LegacyEmbedder(), scope).upsert("c", "b", "SSH brute force")
        any_db_session.add(
            VectorEmbeddingModel(
                collection="c", source_id="raw", embedder="legacy-v0", embedding=b"\0" * DIM * 4, payload={}
            )
        )
        await any_db_session.flush()
        store = BruteForceStore(HashingEmbedder(), scope)
        assert await store.search("c", TEXT) == []
        assert await store.reindex(batch_size=1) == (2, 1)
        assert (await store.search("c", TEXT))[0]["source_id"] == "a"
        assert await store.reindex() == (0, 1)


class TestReindexCommand:
    def test_reindex_re_embeds_legacy_rows(self, monkeypatch):
        monkeypatch.setenv("AURORA_EMBEDDER", "hashing")  # whatever models the machine has installed
        reset_settings()
        cli = CliRunner()
        assert cli.invoke(app, ["migrate"]).exit_code == 0
        engine = create_engine(get_settings().database_url.replace("+aiosqlite", ""))
        with engine.begin() as conn:
            conn.execute(
                insert(VectorEmbeddingModel).values(
                    collection="aurora_cases",
                    source_id="case-1",
                    embedder="legacy-v0",
                    embedding=b"\0" * DIM * 4,
                    payload={"text": TEXT},
                )
            )
        result = cli.invoke(app, ["memory", "reindex"])
        assert result.exit_code == 0, result.output
        assert "re-embedded 1 memories with hashing-v1; 0 without text skipped" in result.stdout
        with engine.connect() as conn:
            row = conn.execute(select(VectorEmbeddingModel.embedder, VectorEmbeddingModel.embedding)).one()
        engine.dispose()
        assert row.embedder == "hashing-v1"
        assert row.embedding == HashingEmbedder().embed_one(TEXT).tobytes()
