"""API key material: only the SHA-256 of a key is ever stored."""

from __future__ import annotations

import hashlib
import re
import secrets

API_KEY_PREFIX = "aurora_"
API_KEY_PATTERN = re.compile(r"^aurora_[0-9a-f]{64}$")


def generate_api_key() -> str:
    """``aurora_`` + 64 lowercase hex characters (256 bits of entropy)."""
    return API_KEY_PREFIX + secrets.token_hex(32)


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key_label() -> str:
    """A random, non-secret label to tell keys apart in listings (``ak_`` + 12 hex)."""
    return "ak_" + secrets.token_hex(6)


def looks_like_api_key(value: str) -> bool:
    return bool(API_KEY_PATTERN.fullmatch(value))
