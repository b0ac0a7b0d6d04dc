"""Firmware registry and staged rollouts (spec §10, §18).

Uploads and rollout changes are operator writes (``real`` mode only); rollout delivery goes
through the ``firmware`` connector, simulated unless a real one is configured.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import Depends, File, Form, Request, UploadFile, status
from sqlalchemy import select

from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import DbSession, Paging, client_ip, require_mutations
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.cps.firmware import MAX_BUNDLE_BYTES, FirmwareService
from aurorasoc.cps.firmware_rollouts import ALLOWED, RolloutAction, RolloutService, covered
from aurorasoc.cps.models import FirmwareBundleModel, FirmwareRolloutModel
from aurorasoc.cps.schemas_firmware import BundleOut, PauseBody, RolloutCreate, RolloutOut

router = IndexedRouter(prefix="/firmware", tags=["firmware"])
Reader = Depends(require_permission("firmware:read"))
Updater = Depends(require_permission("firmware:update"))
MUTATES = [Depends(require_mutations)]


async def _rollouts_out(
    service: RolloutService, rollouts: Sequence[FirmwareRolloutModel]
) -> list[RolloutOut]:
    ids = {r.bundle_id for r in rollouts}
    stmt = select(FirmwareBundleModel).where(FirmwareBundleModel.id.in_(ids))
    bundles = {b.id: b for b in (await service.session.scalars(stmt)).all()} if ids else {}
    out = []
    for rollout in rollouts:
        bundle = bundles.get(rollout.bundle_id)
        out.append(
            RolloutOut.model_validate(rollout).model_copy(
                update={
                    "bundle_version": bundle.version if bundle else None,
                    "target_device_type": bundle.target_device_type if bundle else None,
                    "updated_devices": covered(rollout.target_devices, rollout.stage),
                    "allowed_actions": list(ALLOWED.get(rollout.status, ())),
                    "delivery_simulated": service.delivery_simulated,
                }
            )
        )
    return out


@router.get(
    "/bundles", response_model=Page[BundleOut], summary="List firmware bundles. Permission: firmware:read"
)
async def list_bundles(session: DbSession, paging: Paging, _: Principal = Reader) -> Page[BundleOut]:
    rows, total = await FirmwareService(session).page(skip=paging.skip, limit=paging.limit)
    items = [BundleOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "/bundles", response_model=BundleOut, status_code=status.HTTP_201_CREATED, dependencies=MUTATES,
    summary="Upload a signed firmware bundle (multipart, Ed25519 signature hex). Permission: firmware:update",
)  # fmt: skip
async def upload_bundle(
    request: Request,
    session: DbSession,
    version: str = Form(..., min_length=1, max_length=64),
    target_device_type: str = Form(..., min_length=1, max_length=64),
    signature: str = Form("", max_length=256, description="Ed25519 signature of the file bytes, hex"),
    file: UploadFile = File(..., description=f"Firmware image, at most {MAX_BUNDLE_BYTES} bytes"),
    principal: Principal = Updater,
) -> BundleOut:
    data = await file.read(MAX_BUNDLE_BYTES + 1)
    bundle = await FirmwareService(session).register(
        version=version, device_type=target_device_type, signature_hex=signature, data=data,
        filename=file.filename, actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return BundleOut.model_validate(bundle)


@router.get(
    "/rollouts", response_model=Page[RolloutOut], summary="List firmware rollouts. Permission: firmware:read"
)
async def list_rollouts(session: DbSession, paging: Paging, _: Principal = Reader) -> Page[RolloutOut]:
    service = RolloutService(session)
    rows, total = await service.page(skip=paging.skip, limit=paging.limit)
    return Page(items=await _rollouts_out(service, rows), total=total, skip=paging.skip, limit=paging.limit)


@router.post(
    "/rollouts", response_model=RolloutOut, status_code=status.HTTP_201_CREATED, dependencies=MUTATES,
    summary="Create a draft rollout (default: all devices of the type). Permission: firmware:update",
)  # fmt: skip
async def create_rollout(
    body: RolloutCreate, request: Request, session: DbSession, principal: Principal = Updater
) -> RolloutOut:
    service = RolloutService(session)
    actor = Actor.of(principal, client_ip(request))
    rollout = await service.open(body.bundle_id, body.target_devices, actor=actor)
    return (await _rollouts_out(service, [rollout]))[0]


async def _act(
    action: RolloutAction, rollout_id: uuid.UUID, request: Request, session: DbSession, principal: Principal,
    reason: str = "",
) -> RolloutOut:  # fmt: skip
    service = RolloutService(session)
    actor = Actor.of(principal, client_ip(request))
    rollout = await service.act(rollout_id, action, actor=actor, reason=reason)
    return (await _rollouts_out(service, [rollout]))[0]


@router.post(
    "/rollouts/{rollout_id}/start", response_model=RolloutOut, dependencies=MUTATES,
    summary="Start a draft rollout at 5 % or resume a paused one. Permission: firmware:update",
)  # fmt: skip
async def start_rollout(
    rollout_id: uuid.UUID, request: Request, session: DbSession, principal: Principal = Updater
) -> RolloutOut:
    return await _act("start", rollout_id, request, session, principal)


@router.post(
    "/rollouts/{rollout_id}/advance", response_model=RolloutOut, dependencies=MUTATES,
    summary="Advance a running rollout to its next stage (5/25/50/100 %). Permission: firmware:update",
)  # fmt: skip
async def advance_rollout(
    rollout_id: uuid.UUID, request: Request, session: DbSession, principal: Principal = Updater
) -> RolloutOut:
    return await _act("advance", rollout_id, request, session, principal)


@router.post(
    "/rollouts/{rollout_id}/pause", response_model=RolloutOut, dependencies=MUTATES,
    summary="Pause a running rollout. Permission: firmware:update",
)  # fmt: skip
async def pause_rollout(
    rollout_id: uuid.UUID, request: Request, session: DbSession, body: PauseBody | None = None,
    principal: Principal = Updater,
) -> RolloutOut:  # fmt: skip
    return await _act("pause", rollout_id, request, session, principal, (body or PauseBody()).reason)


@router.post(
    "/rollouts/{rollout_id}/rollback", response_model=RolloutOut, dependencies=MUTATES,
    summary="Roll back: stop and re-push the previous bundle to reached devices. Permission: firmware:update",
)  # fmt: skip
async def rollback_rollout(
    rollout_id: uuid.UUID, request: Request, session: DbSession, principal: Principal = Updater
) -> RolloutOut:
    return await _act("rollback", rollout_id, request, session, principal)
