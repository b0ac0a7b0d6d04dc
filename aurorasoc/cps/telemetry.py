"""What each validated MQTT message does to the database (spec §12 topic table, §18).

:class:`CPSIngest` handles a batch of messages in one session (one flush, one commit by the
caller) so thousands of devices at 1 msg/s stay cheap. Telemetry, the bulk of the traffic, never
builds ORM objects: zones come from the cached :class:`DeviceDirectory`, rows go in with one
executemany, and every sender's ``last_seen_at`` is written once per batch (one executemany). Other
kinds load their devices with one query per batch. Messages from device ids that were never
registered are rejected (returned in ``BatchResult.rejected`` for the consumer to count), except a
``status`` when ``AURORA_CPS_AUTO_REGISTER`` is on, which registers the device quarantined.
Correlation findings become CPS alerts with ``metadata.correlation_type`` and the evidence.
Access decisions that should open a door are returned as commands for the consumer to publish
after the commit. Every ``YIELD_EVERY`` messages the handling yields to the event loop, so the
MQTT socket is read while a large batch is worked through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.config import get_settings
from aurorasoc.core.db import take_sqlite_writer
from aurorasoc.core.vocabulary import RuntimeMode, Severity
from aurorasoc.cps import access
from aurorasoc.cps.attestation import AttestationResponse, verify_response
from aurorasoc.cps.correlation import TAMPER_METRICS, CorrelationEngine, Finding
from aurorasoc.cps.device_cache import DeviceDirectory, DeviceFacts
from aurorasoc.cps.models import CPSDeviceModel
from aurorasoc.cps.mqtt_topics import BadgePayload, DeviceAlertPayload, StatusPayload, TelemetryPayload
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.service import CPSService

# Messages handled between two yields to the event loop: a 2,000-message batch is ~0.2 s of CPU,
# during which the consumer's socket would otherwise not be read (the broker holds ~2,000 for us).
YIELD_EVERY = 250
BULK = ("telemetry", "status")  # kinds handled from the cached device facts, without ORM rows


@dataclass
class IngestMessage:
    kind: str
    device_id: str
    payload: BaseModel
    received_at: datetime
    received_mono: float = 0.0


@dataclass
class BatchResult:
    outbox: CPSOutbox = field(default_factory=CPSOutbox)
    commands: list[tuple[str, str]] = field(default_factory=list)  # (device_id, command)
    findings: list[Finding] = field(default_factory=list)
    rejected: list[IngestMessage] = field(default_factory=list)  # from unregistered device ids
    seen: dict[str, datetime] = field(default_factory=dict)  # last_seen_at written, once committed


class CPSIngest:
    def __init__(
        self, session: AsyncSession, engine: CorrelationEngine, directory: DeviceDirectory | None = None
    ) -> None:
        self.session = session
        self.engine = engine
        self.directory = directory or DeviceDirectory()
        self.devices = CPSService(session)
        self.auto_register = get_settings().cps.auto_register

    async def handle(self, messages: Sequence[IngestMessage]) -> BatchResult:
        """Telemetry and status of registered devices go the bulk path (cached facts, one
        executemany each); the rest, and a status from an id the cache does not know, load ORM rows."""
        result, rows, firmware = BatchResult(), list[dict[str, Any]](), dict[str, str]()
        facts = await self.directory.facts(self.session, {m.device_id for m in messages if m.kind in BULK})
        known = await self.devices.find_many(
            [
                m.device_id
                for m in messages
                if m.kind not in BULK or (m.kind == "status" and m.device_id not in facts)
            ]
        )
        for n, message in enumerate(messages, start=1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the socket reader runs between chunks of a large batch
            payload, device_id = message.payload, message.device_id
            fact = facts.get(device_id)
            if fact is None and (device := self._registered(message, known)) is not None:
                fact = DeviceFacts(device.zone_id, device.location, device.firmware_version)
            if fact is None:
                result.rejected.append(message)
                continue
            result.findings += self.engine.message(device_id, message.received_at)
            if isinstance(payload, TelemetryPayload):
                self._telemetry(message, payload, fact.zone_id, rows, result)
            elif isinstance(payload, StatusPayload):
                self._status(device_id, fact, payload, firmware, result)
            else:
                await self._dispatch(message, known.get(device_id), result)
        await take_sqlite_writer(self.session)  # the reading and the Python work above hold no lock
        await self.devices.store_telemetry(rows)
        await self._raise_all(result, known)
        await self.session.flush()
        seen = _last_seen(messages, known.keys() | facts.keys())
        result.seen = self.directory.seen_due(seen) | {d: seen[d] for d in firmware}
        await self.devices.mark_seen(result.seen, firmware)
        self.directory.firmware_noted(firmware)
        return result

    def _registered(self, message: IngestMessage, known: dict[str, CPSDeviceModel]) -> CPSDeviceModel | None:
        """The sender's device; a ``status`` from a new id registers it (quarantined) when enabled."""
        device = known.get(message.device_id)
        if device is None and message.kind == "status" and self.auto_register:
            device = known[message.device_id] = self.devices.auto_register(
                message.device_id, message.payload.model_dump()
            )
        return device

    def _telemetry(
        self,
        message: IngestMessage,
        payload: TelemetryPayload,
        zone: str | None,
        rows: list[dict[str, Any]],
        result: BatchResult,
    ) -> None:
        device_id, now = message.device_id, message.received_at
        ts = datetime.fromtimestamp(payload.ts, UTC) if payload.ts else now
        rows.append({"device_id": device_id, "metric": payload.metric, "value": payload.value,
                     "unit": payload.unit, "timestamp": ts})  # fmt: skip
        result.findings += self.engine.telemetry(device_id, zone, payload.metric, payload.value, now)
        result.outbox.live(
            "telemetry", device_id, metric=payload.metric, value=payload.value, unit=payload.unit
        )

    async def _raise_all(self, result: BatchResult, known: dict[str, CPSDeviceModel]) -> None:
        if missing := {f.device_id for f in result.findings}.difference(known):
            known.update(await self.devices.find_many(list(missing)))
        for finding in result.findings:
            await self._raise(finding, known.get(finding.device_id), result.outbox)

    async def _dispatch(
        self, message: IngestMessage, device: CPSDeviceModel | None, result: BatchResult
    ) -> None:
        payload, device_id, now = message.payload, message.device_id, message.received_at
        if isinstance(payload, DeviceAlertPayload):
            await self._device_alert(device_id, payload, now, result)
        elif isinstance(payload, BadgePayload):
            await self._badge(device, device_id, payload, now, result)
        elif isinstance(payload, AttestationResponse):
            await self._attestation(device_id, payload, now, result)

    def _status(
        self,
        device_id: str,
        fact: DeviceFacts,
        payload: StatusPayload,
        firmware: dict[str, str],
        result: BatchResult,
    ) -> None:
        """A heartbeat: the first reported firmware version is kept (written with ``last_seen_at``),
        a reported place or zone other than the registered one is a finding."""
        if payload.firmware_version and fact.firmware_version is None:
            firmware[device_id] = payload.firmware_version
        result.findings += self.engine.location(device_id, fact.location, payload.location)
        result.findings += self.engine.location(device_id, fact.zone_id, payload.zone_id)
        result.outbox.live("status", device_id, health="online", firmware_version=payload.firmware_version)

    async def _device_alert(
        self, device_id: str, payload: DeviceAlertPayload, now: datetime, result: BatchResult
    ) -> None:
        await result.outbox.alert(
            self.session, title=payload.title, severity=Severity(payload.severity), device_id=device_id,
            description=payload.description, metadata={"device_alert": True, "metric": payload.metric},
        )  # fmt: skip
        text = f"{payload.title} {payload.metric or ''}".lower()
        if any(word in text for word in TAMPER_METRICS):
            result.findings += self.engine.tamper_signal(device_id, now, {"device_alert": payload.title})

    async def _badge(
        self,
        device: CPSDeviceModel | None,
        device_id: str,
        payload: BadgePayload,
        now: datetime,
        result: BatchResult,
    ) -> None:
        decision = await access.badge_event(
            self.session, device, device_id, payload.badge_id, now, result.outbox
        )
        zone = device.zone_id if device else None
        result.findings += self.engine.badge(payload.badge_id, zone, device_id, now)
        if not decision.allowed:
            evidence = {"badge_id": payload.badge_id, "reason": decision.reason}
            result.findings += self.engine.auth_failure(device_id, now, evidence)
        elif runtime.current_mode() is RuntimeMode.REAL:
            result.commands.append((device_id, "unlock"))

    async def _attestation(
        self, device_id: str, payload: AttestationResponse, now: datetime, result: BatchResult
    ) -> None:
        if payload.device_id != device_id:
            result.findings.append(self.engine.identity_mismatch(device_id, payload.device_id))
        outcome = await verify_response(self.session, device_id, payload, result.outbox, now)
        if outcome.result == "failed":
            evidence = {"attestation": outcome.reason}
            result.findings += self.engine.auth_failure(device_id, now, evidence)

    async def _raise(self, finding: Finding, device: CPSDeviceModel | None, outbox: CPSOutbox) -> None:
        if device is not None and finding.type.value == "ANOMALOUS_TELEMETRY":
            device.metadata_ = {**(device.metadata_ or {}), "last_anomaly_at": datetime.now(UTC).isoformat()}
        trusted = bool(device and device.trusted)
        metadata: dict[str, Any] = {"correlation_type": finding.type.value, "evidence": finding.evidence,
                                    "device_id": finding.device_id, "device_trusted": trusted}  # fmt: skip
        await outbox.alert(
            self.session,
            title=f"{finding.type.value}: {finding.device_id}",
            severity=finding.severity,
            device_id=finding.device_id,
            description=finding.summary + ("" if trusted else " (data from an untrusted device)"),
            metadata=metadata,
        )
        outbox.event(
            "correlation", finding.device_id, correlation_type=finding.type.value, evidence=finding.evidence
        )


def _last_seen(messages: Sequence[IngestMessage], registered: AbstractSet[str]) -> dict[str, datetime]:
    """The latest message time of every registered sender in the batch."""
    seen: dict[str, datetime] = {}
    for m in messages:
        if m.device_id in registered:
            seen[m.device_id] = max(m.received_at, seen.get(m.device_id, m.received_at))
    return seen
