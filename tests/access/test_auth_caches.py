"""The per-request caches of aurorasoc.core.auth change no decision: a cached token still expires,
and a rewritten secret file takes effect on the next request."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi import HTTPException

from aurorasoc.core import auth
from aurorasoc.core.auth import create_token, decode_token, jwt_secret
from aurorasoc.core.vocabulary import Role


def test_a_cached_token_is_refused_once_it_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    token = create_token(sub="analyst-1", role=Role.ANALYST, expires_delta=timedelta(minutes=5))
    assert decode_token(token).sub == "analyst-1"  # verified and cached
    later = time.time() + 600
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later, monotonic=time.monotonic))
    with pytest.raises(HTTPException) as refused:
        decode_token(token)
    assert refused.value.status_code == 401


def test_a_token_signed_with_the_old_key_is_refused_after_rotation(
    monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    from aurorasoc.core.config import get_settings, reset_settings

    monkeypatch.delenv("JWT_SECRET_KEY")
    reset_settings()
    path = get_settings().secrets_dir / "jwt_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a" * 64)
    token = create_token(sub="analyst-1", role=Role.ANALYST)
    assert decode_token(token).sub == "analyst-1"
    path.write_text("b" * 64)  # same size and inode: only the stamp tells the versions apart
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    assert jwt_secret() == "b" * 64
    with pytest.raises(HTTPException) as refused:
        decode_token(token)
    assert refused.value.status_code == 401
