"""Real Ed25519 firmware signing for tests: a key pair, its public key on disk, signed uploads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aurorasoc.core.config import reset_settings


@dataclass
class Signer:
    key: Ed25519PrivateKey

    def sign(self, data: bytes) -> str:
        return self.key.sign(data).hex()

    def upload(
        self, version: str, device_type: str, data: bytes, signature: str | None = None
    ) -> dict[str, Any]:
        """``client.post`` keyword arguments for a multipart bundle upload."""
        fields = {"version": version, "target_device_type": device_type,
                  "signature": self.sign(data) if signature is None else signature}  # fmt: skip
        return {
            "data": fields,
            "files": {"file": (f"{device_type}-{version}.bin", data, "application/octet-stream")},
        }


def install_signer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: Ed25519PrivateKey | None = None
) -> Signer:
    """Point FIRMWARE_SIGNING_PUBKEY_PATH at the PEM public key of ``key`` (default: a fresh one)."""
    key = key or Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "firmware_signing.pub"
    path.write_bytes(pem)
    monkeypatch.setenv("FIRMWARE_SIGNING_PUBKEY_PATH", str(path))
    reset_settings()
    return Signer(key)
