"""Signed firmware bundle registry (spec §18).

An upload is accepted only with a valid Ed25519 signature over the exact file bytes, checked with
the public key at ``FIRMWARE_SIGNING_PUBKEY_PATH``; a registry that cannot verify refuses every
upload rather than storing unverifiable images. The file is kept under
``<AURORA_DATA_DIR>/firmware/<sha256>.bin`` and its SHA-256 becomes the expected attestation hash
for (device_type, version) — :mod:`aurorasoc.cps.attestation` looks it up there.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.actor import Actor
from aurorasoc.core.config import get_settings
from aurorasoc.core.errors import Conflict, DomainError, InvalidInput, NotFound
from aurorasoc.cps.models import FirmwareBundleModel

MAX_BUNDLE_BYTES = 64 * 1024 * 1024


class BundleTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


def signing_key() -> Ed25519PublicKey:
    """The configured Ed25519 public key (PEM or raw 32 bytes); 400 when absent or unusable."""
    configured = get_settings().cps.firmware_signing_pubkey_path
    if not configured:
        raise InvalidInput("FIRMWARE_SIGNING_PUBKEY_PATH is not set; uploads cannot be verified",
                           code="signing_key_missing")  # fmt: skip
    path = Path(configured).expanduser()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"firmware signing key {path} is unreadable: {exc.strerror}",
                           code="signing_key_missing") from exc  # fmt: skip
    try:
        key = (
            Ed25519PublicKey.from_public_bytes(raw)
            if len(raw) == 32
            else serialization.load_pem_public_key(raw)
        )
    except ValueError as exc:
        raise InvalidInput(
            f"firmware signing key {path} is not a public key", code="signing_key_invalid"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"firmware signing key {path} is not Ed25519", code="signing_key_invalid")
    return key


def verify_bundle_signature(data: bytes, signature_hex: str) -> None:
    """Raise 400 unless ``signature_hex`` is a valid Ed25519 signature of ``data``."""
    key = signing_key()
    if not signature_hex.strip():
        raise InvalidInput("firmware bundle is unsigned", code="signature_missing")
    try:
        key.verify(bytes.fromhex(signature_hex.strip()), data)
    except (ValueError, InvalidSignature) as exc:
        raise InvalidInput("firmware signature does not verify", code="signature_invalid") from exc


def check_size(size: int) -> None:
    if size > MAX_BUNDLE_BYTES:
        raise BundleTooLarge(f"firmware bundle exceeds {MAX_BUNDLE_BYTES} bytes", limit=MAX_BUNDLE_BYTES)
    if size == 0:
        raise InvalidInput("firmware bundle is empty")


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class FirmwareService:
    """Bundle registry; :meth:`register` is the audited, committed unit of work every caller uses."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upload(
        self, *, version: str, device_type: str, signature_hex: str, data: bytes, actor: str
    ) -> FirmwareBundleModel:
        check_size(len(data))
        verify_bundle_signature(data, signature_hex)
        if await self._find(device_type, version) is not None:
            raise Conflict(
                f"firmware {version} for {device_type} is already registered", code="duplicate_bundle"
            )
        digest = hashlib.sha256(data).hexdigest()
        path = get_settings().data_dir / "firmware" / f"{digest}.bin"
        await asyncio.to_thread(_store, path, data)
        bundle = FirmwareBundleModel(
            version=version, target_device_type=device_type, sha256=digest,
            signature_hex=signature_hex.strip().lower(), signature_valid=True, size=len(data),
            storage_path=str(path), uploaded_by=actor,
        )  # fmt: skip
        self.session.add(bundle)
        await self.session.flush()
        return bundle

    async def register(
        self, *, version: str, device_type: str, signature_hex: str, data: bytes, filename: str | None,
        actor: Actor,
    ) -> FirmwareBundleModel:  # fmt: skip
        """Verify, store and register a signed bundle; audited with its digest; committed."""
        bundle = await self.upload(
            version=version, device_type=device_type, signature_hex=signature_hex, data=data,
            actor=actor.username,
        )  # fmt: skip
        details = {"version": version, "target_device_type": device_type, "sha256": bundle.sha256,
                   "size": bundle.size, "filename": filename}  # fmt: skip
        await actor.audit(
            self.session, "firmware.bundle.upload", ("firmware_bundle", str(bundle.id)), details
        )
        await self.session.commit()
        return bundle

    async def _find(self, device_type: str, version: str) -> FirmwareBundleModel | None:
        stmt = select(FirmwareBundleModel).where(
            FirmwareBundleModel.target_device_type == device_type, FirmwareBundleModel.version == version
        )
        return (await self.session.scalars(stmt)).first()

    async def get(self, bundle_id: uuid.UUID) -> FirmwareBundleModel:
        bundle = await self.session.get(FirmwareBundleModel, bundle_id)
        if bundle is None:
            raise NotFound(f"firmware bundle {bundle_id} not found")
        return bundle

    async def page(self, *, skip: int, limit: int) -> tuple[list[FirmwareBundleModel], int]:
        total = int(await self.session.scalar(select(func.count()).select_from(FirmwareBundleModel)) or 0)
        stmt = select(FirmwareBundleModel).order_by(FirmwareBundleModel.created_at.desc())
        rows = (await self.session.scalars(stmt.offset(skip).limit(limit))).all()
        return list(rows), total

    async def previous(self, bundle: FirmwareBundleModel) -> FirmwareBundleModel | None:
        """The bundle registered for the same device type just before ``bundle`` (rollback target)."""
        stmt = (
            select(FirmwareBundleModel)
            .where(
                FirmwareBundleModel.target_device_type == bundle.target_device_type,
                FirmwareBundleModel.created_at < bundle.created_at,
            )
            .order_by(FirmwareBundleModel.created_at.desc())
        )
        return (await self.session.scalars(stmt.limit(1))).first()
