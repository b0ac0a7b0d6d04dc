"""DeviceService: each change of the CPS fleet as one unit of work (spec §18, §22).

Validation, the write, the audit row naming the actor, the commit and what is announced after the
commit (the ``/ws/cps`` event, the MQTT challenge or command) happen here, so the API and any other
caller cannot drift. :class:`~aurorasoc.cps.service.CPSService` keeps the flush-only primitives the
MQTT ingest batches share in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aurorasoc.core import runtime
from aurorasoc.core.actor import Actor
from aurorasoc.core.errors import Conflict
from aurorasoc.core.vocabulary import AttestationStatus
from aurorasoc.cps.attestation import issue_challenge
from aurorasoc.cps.models import AttestationNonceModel, CPSDeviceModel
from aurorasoc.cps.mqtt import publish_challenge, publish_command
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.service import CPSService


@dataclass(frozen=True)
class Challenge:
    nonce: AttestationNonceModel
    delivered: bool  # False when no MQTT consumer is connected


class DeviceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.devices = CPSService(session)

    async def register(self, fields: dict[str, Any], *, actor: Actor) -> CPSDeviceModel:
        """Register a device (the §18 body), audited and committed."""
        device = await self.devices.register(fields)
        await self._commit(actor, "cps.device.register", device.device_id, {})
        return device

    async def change(self, device_id: str, changes: dict[str, Any], *, actor: Actor) -> CPSDeviceModel:
        """Edit a device (a new key sends it back to ``pending``), audited with the fields changed."""
        device = await self.devices.update(await self.devices.get(device_id), changes)
        await self._commit(actor, "cps.device.update", device_id, {"fields": sorted(changes)})
        return device

    async def remove(self, device_id: str, *, actor: Actor) -> None:
        await self.devices.delete(await self.devices.get(device_id))
        await self._commit(actor, "cps.device.delete", device_id, {})

    async def challenge(self, device_id: str) -> Challenge:
        """Issue an attestation nonce (committed before it is sent, so the answer can find it)."""
        device = await self.devices.get(device_id)
        if device.attestation_status == AttestationStatus.REVOKED.value:
            raise Conflict("device is revoked", code="device_revoked")
        nonce = await issue_challenge(self.session, device_id)
        await self.session.commit()
        return Challenge(nonce, await publish_challenge(device_id, nonce.nonce))

    async def command(self, device_id: str, command: str, *, actor: Actor) -> bool:
        """Send ``command`` to a verified, trusted device (real mode); audited before it leaves.

        Returns whether an MQTT consumer took it.
        """
        runtime.assert_external_allowed()
        device = await self.devices.get(device_id)
        if not device.trusted or device.attestation_status != AttestationStatus.VERIFIED.value:
            raise Conflict("commands go only to verified (trusted) devices", code="device_untrusted",
                           attestation_status=device.attestation_status)  # fmt: skip
        await self._commit(actor, "cps.device.command", device_id, {"command": command})
        return await publish_command(device_id, command)

    async def revoke(self, device_id: str, *, actor: Actor) -> CPSDeviceModel:
        """Revoke a device, audited and committed, then announce its status on ``/ws/cps``."""
        device = await self.devices.get(device_id)
        await self.devices.revoke(device)
        outbox = CPSOutbox()
        outbox.event("status", device_id, attestation_status=device.attestation_status)
        await self._commit(actor, "cps.device.revoke", device_id, {})
        await outbox.publish()
        return device

    async def approve(self, device_id: str, *, actor: Actor) -> CPSDeviceModel:
        """Lift an auto-registration quarantine, audited and committed."""
        device = await self.devices.approve(await self.devices.get(device_id))
        await self._commit(actor, "cps.device.approve", device_id, {})
        return device

    async def enrollment_token(self, device_id: str, *, actor: Actor) -> tuple[str, datetime]:
        """A one-time re-enrolment token (24 h), audited and committed; only its hash is stored."""
        token, expires = await self.devices.enrollment_token(await self.devices.get(device_id))
        await self._commit(actor, "cps.device.enrollment_token", device_id, {})
        return token, expires

    async def enroll(
        self, device_id: str, token: str, public_key_pem: str, *, ip: str | None
    ) -> CPSDeviceModel:
        """Re-enrol with a one-time token; the device itself is the (``system``) actor."""
        device = await self.devices.enroll(device_id, token, public_key_pem)
        await self._commit(Actor(device_id, "system", ip), "cps.device.enroll", device_id, {})
        return device

    async def _commit(self, actor: Actor, action: str, device_id: str, details: dict[str, Any]) -> None:
        await actor.audit(self.session, action, ("cps_device", device_id), details)
        await self.session.commit()
