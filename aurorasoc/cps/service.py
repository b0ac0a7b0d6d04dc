"""CPSService: the device fleet (spec §18) — registration, heartbeats, telemetry, revocation.

Its methods flush; :class:`~aurorasoc.cps.devices.DeviceService` (API) and the MQTT ingest commit
and then publish the :class:`CPSOutbox`. Devices first seen on
MQTT auto-register only with ``AURORA_CPS_AUTO_REGISTER`` and then quarantined (untrusted,
``unknown``) until :meth:`CPSService.approve`. Re-enrolment tokens are kept as
SHA-256 in the device's metadata (one-time, 24 h), never in clear.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aurorasoc.core.types import utcnow
from aurorasoc.core.vocabulary import AttestationStatus, DeviceHealth
from aurorasoc.cps.attestation_keys import load_device_key
from aurorasoc.cps.device_cache import invalidate_devices
from aurorasoc.cps.models import AttestationRecordModel, CPSDeviceModel, CPSTelemetryModel

ENROLLMENT_TTL = timedelta(hours=24)
MAX_TELEMETRY_POINTS = 5000


_PG_ARRAYS = ("ids", "created", "devices", "metrics", "vals", "units", "stamps")
_PG_TELEMETRY = text(
    "INSERT INTO cps_telemetry (id, created_at, device_id, metric, value, unit, timestamp) "
    "SELECT * FROM unnest(CAST(:ids AS UUID[]), CAST(:created AS TIMESTAMPTZ[]), "
    "CAST(:devices AS VARCHAR[]), CAST(:metrics AS VARCHAR[]), CAST(:vals AS FLOAT8[]), "
    "CAST(:units AS VARCHAR[]), CAST(:stamps AS TIMESTAMPTZ[]))"
)


@dataclass(frozen=True)
class DeviceFilters:
    health: str | None = None
    attestation_status: str | None = None
    zone_id: str | None = None
    device_type: str | None = None
    trusted: bool | None = None
    q: str | None = None

    def clauses(self) -> list[Any]:
        model = CPSDeviceModel
        wanted = {
            model.health: self.health,
            model.attestation_status: self.attestation_status,
            model.zone_id: self.zone_id,
            model.device_type: self.device_type,
            model.trusted: self.trusted,
        }
        found = [column == value for column, value in wanted.items() if value is not None]
        if self.q:
            pattern = f"%{self.q.lower()}%"
            found.append(func.lower(model.device_id).like(pattern) | func.lower(model.name).like(pattern))
        return found


def _check_key(pem: str | None) -> None:
    if pem is not None:
        try:
            load_device_key(pem)
        except ValueError as exc:
            raise InvalidInput(f"public_key_pem: {exc}", code="invalid_public_key") from None


class CPSService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, device_id: str) -> CPSDeviceModel | None:
        stmt = select(CPSDeviceModel).where(CPSDeviceModel.device_id == device_id)
        return (await self.session.scalars(stmt)).one_or_none()

    async def find_many(self, device_ids: Sequence[str]) -> dict[str, CPSDeviceModel]:
        if not device_ids:
            return {}
        stmt = select(CPSDeviceModel).where(CPSDeviceModel.device_id.in_(set(device_ids)))
        return {d.device_id: d for d in (await self.session.scalars(stmt)).all()}

    async def get(self, device_id: str) -> CPSDeviceModel:
        device = await self.find(device_id)
        if device is None:
            raise NotFound(f"device {device_id} does not exist", device_id=device_id)
        return device

    async def list(
        self, filters: DeviceFilters, *, skip: int, limit: int
    ) -> tuple[builtins.list[CPSDeviceModel], int]:
        clauses = filters.clauses()
        total = await self.session.scalar(select(func.count()).select_from(CPSDeviceModel).where(*clauses))
        stmt = select(CPSDeviceModel).where(*clauses).order_by(CPSDeviceModel.device_id)
        rows = (await self.session.scalars(stmt.offset(skip).limit(limit))).all()
        return builtins.list(rows), int(total or 0)

    async def register(self, fields: dict[str, Any]) -> CPSDeviceModel:
        """``fields``: the §18 registration body. With a key the device awaits attestation (``pending``)."""
        if await self.find(fields["device_id"]) is not None:
            raise Conflict(f"device {fields['device_id']} already exists", code="duplicate_device")
        _check_key(fields.get("public_key_pem"))
        status = AttestationStatus.PENDING if fields.get("public_key_pem") else AttestationStatus.UNKNOWN
        device = CPSDeviceModel(**fields, attestation_status=status.value, trusted=False, metadata_={})
        self.session.add(device)
        await self.session.flush()
        invalidate_devices(self.session)
        return device

    async def update(self, device: CPSDeviceModel, changes: dict[str, Any]) -> CPSDeviceModel:
        if "public_key_pem" in changes:
            _check_key(changes["public_key_pem"])
            if device.attestation_status in (
                AttestationStatus.UNKNOWN.value,
                AttestationStatus.VERIFIED.value,
            ):
                device.attestation_status, device.trusted = AttestationStatus.PENDING.value, False
        for name, value in changes.items():
            setattr(device, name, value)
        await self.session.flush()
        if "zone_id" in changes:
            invalidate_devices(self.session)
        return device

    async def delete(self, device: CPSDeviceModel) -> None:
        await self.session.delete(device)
        await self.session.flush()
        invalidate_devices(self.session)

    def auto_register(self, device_id: str, identity: dict[str, Any]) -> CPSDeviceModel:
        """A device first seen on MQTT: untrusted, ``unknown``, quarantined until approved."""
        device = CPSDeviceModel(
            device_id=device_id,
            name=device_id,
            device_type=str(identity.get("device_type") or "unknown"),
            board_family=identity.get("board_family"),
            firmware_stack=identity.get("firmware_stack"),
            firmware_version=identity.get("firmware_version"),
            location=identity.get("location"),
            attestation_status=AttestationStatus.UNKNOWN.value,
            trusted=False,
            metadata_={"auto_registered": True, "quarantined": True},
        )
        self.session.add(device)
        invalidate_devices(self.session)
        return device

    async def approve(self, device: CPSDeviceModel) -> CPSDeviceModel:
        """Lift an auto-registration quarantine (idempotent): the device may now attest."""
        meta = dict(device.metadata_ or {})
        if not meta.pop("quarantined", False):
            return device
        device.metadata_ = meta
        if device.public_key_pem and device.attestation_status == AttestationStatus.UNKNOWN.value:
            device.attestation_status = AttestationStatus.PENDING.value
        await self.session.flush()
        return device

    async def mark_seen(
        self, seen: Mapping[str, datetime], firmware: Mapping[str, str] | None = None
    ) -> None:
        """Any message from a device: seen then, so ``online``; ``firmware``: the version a device
        without one reported. One executemany for the whole batch, in device id order: consumers
        sharing a fleet update the same rows, and in any other order (or in two passes) two of them
        on PostgreSQL deadlock (each holds a row the other waits for)."""
        firmware = firmware or {}
        if seen:
            table: Table = CPSDeviceModel.__table__  # type: ignore[assignment]
            stmt = (
                update(table)
                .where(table.c.device_id == bindparam("b_device_id"))
                .values(last_seen_at=bindparam("b_seen"), health=DeviceHealth.ONLINE.value,
                        firmware_version=func.coalesce(table.c.firmware_version, bindparam("b_firmware")))
            )  # fmt: skip
            rows = [
                {"b_device_id": d, "b_seen": seen[d], "b_firmware": firmware.get(d)} for d in sorted(seen)
            ]
            await self.session.execute(stmt, rows)

    async def store_telemetry(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``cps_telemetry`` rows (device_id, metric, value, unit, timestamp) in one statement.

        ``id`` and ``created_at`` are given here, from one ``urandom`` and one clock read per batch:
        the columns' per-row defaults (``uuid4``, ``utcnow``) were a tenth of the MQTT consumer's CPU.
        PostgreSQL gets the batch as seven arrays in one ``INSERT … SELECT unnest(…)`` (parsed and
        planned once, no per-row parameter processing); SQLite, an executemany."""
        if not rows:
            return
        now, raw = utcnow(), os.urandom(16 * len(rows))
        ids = [uuid.UUID(bytes=raw[16 * i : 16 * i + 16], version=4) for i in range(len(rows))]
        if self.session.get_bind().dialect.name == "postgresql":
            columns = [
                [row[key] for row in rows] for key in ("device_id", "metric", "value", "unit", "timestamp")
            ]
            await self.session.execute(
                _PG_TELEMETRY, dict(zip(_PG_ARRAYS, [ids, [now] * len(rows), *columns], strict=True))
            )
            return
        table: Table = CPSTelemetryModel.__table__  # type: ignore[assignment]
        await self.session.execute(
            insert(table), [{**row, "id": i, "created_at": now} for row, i in zip(rows, ids, strict=True)]
        )

    async def telemetry(
        self,
        device_id: str,
        *,
        metric: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> builtins.list[CPSTelemetryModel]:
        model = CPSTelemetryModel
        clauses = [model.device_id == device_id]
        if metric is not None:
            clauses.append(model.metric == metric)
        if since is not None:
            clauses.append(model.timestamp >= since)
        if until is not None:
            clauses.append(model.timestamp <= until)
        stmt = (
            select(model)
            .where(*clauses)
            .order_by(model.timestamp.desc())
            .limit(min(limit, MAX_TELEMETRY_POINTS))
        )
        return builtins.list((await self.session.scalars(stmt)).all())

    async def attestations(self, device_id: str, limit: int = 20) -> builtins.list[AttestationRecordModel]:
        model = AttestationRecordModel
        stmt = (
            select(model).where(model.device_id == device_id).order_by(model.created_at.desc()).limit(limit)
        )
        return builtins.list((await self.session.scalars(stmt)).all())

    async def revoke(self, device: CPSDeviceModel) -> None:
        """Revoked devices are untrusted and their attestation responses are ignored."""
        device.attestation_status, device.trusted = AttestationStatus.REVOKED.value, False
        await self.session.flush()

    async def enrollment_token(
        self, device: CPSDeviceModel, now: datetime | None = None
    ) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        expires = (now or utcnow()) + ENROLLMENT_TTL
        meta = dict(device.metadata_ or {})
        meta["enrollment"] = {"token_sha256": _digest(token), "expires_at": expires.isoformat()}
        device.metadata_ = meta
        await self.session.flush()
        return token, expires

    async def enroll(self, device_id: str, token: str, public_key_pem: str) -> CPSDeviceModel:
        """One-time token + new key → ``pending`` (untrusted until it attests)."""
        device = await self.find(device_id)
        pending = dict((device.metadata_ or {}).get("enrollment") or {}) if device else {}
        expected = str(pending.get("token_sha256", ""))
        expired = not pending or datetime.fromisoformat(str(pending["expires_at"])) <= utcnow()
        if device is None or expired or not hmac.compare_digest(expected, _digest(token)):
            raise PermissionDenied("invalid or expired enrolment token", code="invalid_enrollment_token")
        _check_key(public_key_pem)
        meta = dict(device.metadata_)
        meta.pop("enrollment")
        device.metadata_, device.public_key_pem = meta, public_key_pem
        device.attestation_status, device.trusted, device.boot_count = (
            AttestationStatus.PENDING.value,
            False,
            None,
        )
        await self.session.flush()
        return device

    async def summary(self) -> dict[str, Any]:
        model = CPSDeviceModel
        health_rows = await self.session.execute(select(model.health, func.count()).group_by(model.health))
        health: dict[str | None, int] = {row[0]: row[1] for row in health_rows}
        attest_stmt = select(model.attestation_status, func.count()).group_by(model.attestation_status)
        attestation: dict[str, int] = {row[0]: row[1] for row in await self.session.execute(attest_stmt)}
        trusted = await self.session.scalar(
            select(func.count()).select_from(model).where(model.trusted.is_(True))
        )
        average = await self.session.scalar(select(func.avg(model.risk_score)))
        return {
            "total": sum(attestation.values()),
            "trusted": int(trusted or 0),
            "health": {h.value: int(health.get(h.value, 0)) for h in DeviceHealth},
            "attestation": {s.value: int(attestation.get(s.value, 0)) for s in AttestationStatus},
            "average_risk": round(float(average or 0.0), 1),
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
