"""CPS device fleet (spec §10, §18): registry, telemetry, attestation, commands, revocation."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, status

from aurorasoc.core import runtime
from aurorasoc.core.audit import AuditService
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import Conflict, InvalidInput
from aurorasoc.core.models import CPSDeviceModel
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import AttestationStatus, DeviceHealth
from aurorasoc.core.web.audit_trail import audit_change
from aurorasoc.core.web.deps import (
    DbSession,
    Paging,
    client_ip,
    require_database,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.cps.attestation import issue_challenge
from aurorasoc.cps.correlation_query import recent_correlations
from aurorasoc.cps.mqtt import publish_challenge, publish_command
from aurorasoc.cps.mqtt_topics import command_topic
from aurorasoc.cps.outbox import CPSOutbox
from aurorasoc.cps.schemas import (
    AttestationRecordOut,
    ChallengeOut,
    CommandBody,
    CommandOut,
    CorrelationOut,
    DeviceCreate,
    DeviceDetail,
    DeviceOut,
    DevicePatch,
    EnrollBody,
    EnrollmentTokenOut,
    FleetSummary,
    TelemetryOut,
    TelemetrySeries,
)
from aurorasoc.cps.service import MAX_TELEMETRY_POINTS, CPSService, DeviceFilters

router = APIRouter(prefix="/cps", tags=["cps"])


def _out(device: CPSDeviceModel) -> DeviceOut:
    return DeviceOut.model_validate(device).model_copy(update={"has_public_key": bool(device.public_key_pem)})


async def _audit(
    session: DbSession, principal: Principal, request: Request, action: str, device_id: str, **details: object
) -> None:
    await audit_change(session, request, principal, action, ("cps_device", device_id), dict(details))


@router.get("/devices", response_model=Page[DeviceOut], summary="List CPS devices. Permission: cps:read")
async def list_devices(
    session: DbSession,
    paging: Paging,
    health: DeviceHealth | None = None,
    attestation_status: AttestationStatus | None = None,
    zone_id: str | None = Query(None, max_length=64),
    device_type: str | None = Query(None, max_length=64),
    trusted: bool | None = None,
    q: str | None = Query(None, max_length=200),
    _: Principal = Depends(require_permission("cps:read")),
) -> Page[DeviceOut]:
    filters = DeviceFilters(
        health.value if health else None, attestation_status.value if attestation_status else None,
        zone_id, device_type, trusted, q,
    )  # fmt: skip
    devices, total = await CPSService(session).list(filters, skip=paging.skip, limit=paging.limit)
    return Page(items=[_out(d) for d in devices], total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "/devices",
    response_model=DeviceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a device. Permission: cps:write",
    dependencies=[Depends(require_mutations)],
)
async def register_device(
    body: DeviceCreate,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cps:write")),
) -> DeviceOut:
    device = await CPSService(session).register(body.model_dump(mode="json"))
    await _audit(session, principal, request, "cps.device.register", device.device_id)
    await session.commit()
    return _out(device)


@router.get(
    "/devices/{device_id}",
    response_model=DeviceDetail,
    summary="Device with telemetry and attestations. Permission: cps:read",
)
async def get_device(
    device_id: str, session: DbSession, _: Principal = Depends(require_permission("cps:read"))
) -> DeviceDetail:
    service = CPSService(session)
    device = await service.get(device_id)
    telemetry = await service.telemetry(device_id, metric=None, since=None, until=None, limit=100)
    records = await service.attestations(device_id)
    return DeviceDetail(
        **_out(device).model_dump(),
        telemetry=[TelemetryOut.model_validate(t) for t in telemetry],
        attestations=[AttestationRecordOut.model_validate(r) for r in records],
    )


@router.patch(
    "/devices/{device_id}", response_model=DeviceOut, summary="Edit a device. Permission: cps:write",
    dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def patch_device(
    device_id: str, body: DevicePatch, request: Request, session: DbSession,
    principal: Principal = Depends(require_permission("cps:write")),
) -> DeviceOut:  # fmt: skip
    service = CPSService(session)
    changes = body.model_dump(exclude_unset=True)
    device = await service.update(await service.get(device_id), changes)
    await _audit(session, principal, request, "cps.device.update", device_id, fields=sorted(changes))
    await session.commit()
    return _out(device)


@router.delete(
    "/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a device. Permission: cps:write", dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def delete_device(
    device_id: str,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cps:write")),
) -> None:
    service = CPSService(session)
    await service.delete(await service.get(device_id))
    await _audit(session, principal, request, "cps.device.delete", device_id)
    await session.commit()


@router.get(
    "/devices/{device_id}/telemetry",
    response_model=TelemetrySeries,
    summary="Telemetry readings. Permission: cps:read",
)
async def device_telemetry(
    device_id: str,
    session: DbSession,
    metric: str | None = Query(None, max_length=64),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(1000, ge=1, le=MAX_TELEMETRY_POINTS),
    _: Principal = Depends(require_permission("cps:read")),
) -> TelemetrySeries:
    if since and until and since > until:
        raise InvalidInput("'since' must not be after 'until'")
    service = CPSService(session)
    await service.get(device_id)
    rows = await service.telemetry(device_id, metric=metric, since=since, until=until, limit=limit)
    return TelemetrySeries(
        device_id=device_id, items=[TelemetryOut.model_validate(r) for r in rows], total=len(rows)
    )


@router.post(
    "/devices/{device_id}/attest", response_model=ChallengeOut, status_code=status.HTTP_202_ACCEPTED,
    summary="Send an attestation challenge now. Permission: cps:attest",
    dependencies=[Depends(require_pipeline_writes)],
)  # fmt: skip
async def attest_device(
    device_id: str, session: DbSession, _: Principal = Depends(require_permission("cps:attest"))
) -> ChallengeOut:
    device = await CPSService(session).get(device_id)
    if device.attestation_status == AttestationStatus.REVOKED.value:
        raise Conflict("device is revoked", code="device_revoked")
    challenge = await issue_challenge(session, device_id)
    await session.commit()
    delivered = await publish_challenge(device_id, challenge.nonce)
    return ChallengeOut(
        device_id=device_id, nonce=challenge.nonce, expires_at=challenge.expires_at, delivered=delivered
    )


@router.post(
    "/devices/{device_id}/command", response_model=CommandOut,
    summary="Send a command to a verified device (real mode). Permission: cps:write",
    dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def command_device(
    device_id: str, body: CommandBody, request: Request, session: DbSession,
    principal: Principal = Depends(require_permission("cps:write")),
) -> CommandOut:  # fmt: skip
    runtime.assert_external_allowed()
    device = await CPSService(session).get(device_id)
    if not device.trusted or device.attestation_status != AttestationStatus.VERIFIED.value:
        raise Conflict("commands go only to verified (trusted) devices", code="device_untrusted",
                       attestation_status=device.attestation_status)  # fmt: skip
    await _audit(session, principal, request, "cps.device.command", device_id, command=body.command)
    await session.commit()
    delivered = await publish_command(device_id, body.command)
    return CommandOut(
        device_id=device_id, command=body.command, delivered=delivered, topic=command_topic(device_id)
    )


@router.post(
    "/devices/{device_id}/revoke", response_model=DeviceOut,
    summary="Revoke a device. Permission: cps:revoke", dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def revoke_device(
    device_id: str,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cps:revoke")),
) -> DeviceOut:
    service = CPSService(session)
    device = await service.get(device_id)
    await service.revoke(device)
    await _audit(session, principal, request, "cps.device.revoke", device_id)
    outbox = CPSOutbox()
    outbox.event("status", device_id, attestation_status=device.attestation_status)
    await session.commit()
    await outbox.publish()
    return _out(device)


@router.post(
    "/devices/{device_id}/approve", response_model=DeviceOut,
    summary="Approve a quarantined auto-registered device. Permission: cps:write",
    dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def approve_device(
    device_id: str,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cps:write")),
) -> DeviceOut:
    service = CPSService(session)
    device = await service.approve(await service.get(device_id))
    await _audit(session, principal, request, "cps.device.approve", device_id)
    await session.commit()
    return _out(device)


@router.post(
    "/devices/{device_id}/enrollment-token", response_model=EnrollmentTokenOut,
    summary="One-time re-enrolment token (24 h). Permission: cps:revoke",
    dependencies=[Depends(require_mutations)],
)  # fmt: skip
async def enrollment_token(
    device_id: str,
    request: Request,
    session: DbSession,
    principal: Principal = Depends(require_permission("cps:revoke")),
) -> EnrollmentTokenOut:
    service = CPSService(session)
    token, expires = await service.enrollment_token(await service.get(device_id))
    await _audit(session, principal, request, "cps.device.enrollment_token", device_id)
    await session.commit()
    return EnrollmentTokenOut(device_id=device_id, token=token, expires_at=expires)


@router.post(
    "/enroll", response_model=DeviceOut,
    summary="Re-enrol a device with its one-time token (no login: the token is the credential)",
    dependencies=[Depends(require_database)],
)  # fmt: skip
async def enroll(body: EnrollBody, request: Request, session: DbSession) -> DeviceOut:
    device = await CPSService(session).enroll(body.device_id, body.token, body.public_key_pem)
    await AuditService(session).record(
        body.device_id, "system", "cps.device.enroll", "cps_device", body.device_id, ip=client_ip(request)
    )
    await session.commit()
    return _out(device)


@router.get(
    "/fleet/summary",
    response_model=FleetSummary,
    summary="Fleet totals and average risk. Permission: cps:read",
)
async def fleet_summary(
    session: DbSession, _: Principal = Depends(require_permission("cps:read"))
) -> FleetSummary:
    return FleetSummary(**await CPSService(session).summary())


@router.get(
    "/correlations",
    response_model=Page[CorrelationOut],
    summary="Physical-cyber correlations. Permission: cps:read",
)
async def correlations(
    session: DbSession,
    paging: Paging,
    correlation_type: str | None = Query(None, max_length=32),
    device_id: str | None = Query(None, max_length=64),
    _: Principal = Depends(require_permission("cps:read")),
) -> Page[CorrelationOut]:
    rows = await recent_correlations(session, correlation_type=correlation_type, device_id=device_id)
    items = [CorrelationOut(**r) for r in rows[paging.skip : paging.skip + paging.limit]]
    return Page(items=items, total=len(rows), skip=paging.skip, limit=paging.limit)
