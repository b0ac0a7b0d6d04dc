"""CPS device fleet (spec §10, §18): registry, telemetry, attestation, commands, revocation."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, Query, Request, status

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.schemas import Page
from aurorasoc.core.vocabulary import AttestationStatus, DeviceHealth
from aurorasoc.core.web.deps import (
    DbSession,
    Paging,
    client_ip,
    require_database,
    require_mutations,
    require_pipeline_writes,
)
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.cps.correlation_query import recent_correlations
from aurorasoc.cps.devices import DeviceService
from aurorasoc.cps.models import CPSDeviceModel
from aurorasoc.cps.mqtt_topics import command_topic
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

router = IndexedRouter(prefix="/cps", tags=["cps"])


def _out(device: CPSDeviceModel) -> DeviceOut:
    return DeviceOut.model_validate(device).model_copy(update={"has_public_key": bool(device.public_key_pem)})


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor.of(principal, client_ip(request))


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
    device = await DeviceService(session).register(
        body.model_dump(mode="json"), actor=_actor(principal, request)
    )
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
    changes = body.model_dump(exclude_unset=True)
    device = await DeviceService(session).change(device_id, changes, actor=_actor(principal, request))
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
    await DeviceService(session).remove(device_id, actor=_actor(principal, request))


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
    sent = await DeviceService(session).challenge(device_id)
    return ChallengeOut(
        device_id=device_id,
        nonce=sent.nonce.nonce,
        expires_at=sent.nonce.expires_at,
        delivered=sent.delivered,
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
    actor = _actor(principal, request)
    delivered = await DeviceService(session).command(device_id, body.command, actor=actor)
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
    return _out(await DeviceService(session).revoke(device_id, actor=_actor(principal, request)))


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
    return _out(await DeviceService(session).approve(device_id, actor=_actor(principal, request)))


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
    actor = _actor(principal, request)
    token, expires = await DeviceService(session).enrollment_token(device_id, actor=actor)
    return EnrollmentTokenOut(device_id=device_id, token=token, expires_at=expires)


@router.post(
    "/enroll", response_model=DeviceOut,
    summary="Re-enrol a device with its one-time token (no login: the token is the credential)",
    dependencies=[Depends(require_database)],
)  # fmt: skip
async def enroll(body: EnrollBody, request: Request, session: DbSession) -> DeviceOut:
    device = await DeviceService(session).enroll(
        body.device_id, body.token, body.public_key_pem, ip=client_ip(request)
    )
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
