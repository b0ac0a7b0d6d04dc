"""Offline ATT&CK lookup and search over the bundled index (spec §10, §13.7)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Path, Query

from aurorasoc.core.errors import NotFound
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import CurrentPrincipal, Paging
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.detection.schemas_attack import TechniqueDetail, TechniqueOut
from aurorasoc.intel import attack

router = IndexedRouter(prefix="/attack", tags=["attack"])
TID_PATTERN = r"^[Tt]\d{4}(\.\d{3})?$"


@router.get(
    "/techniques/{tid}",
    response_model=TechniqueDetail,
    summary="One ATT&CK technique (T1059 or t1059.001). Permission: any authenticated principal",
)
async def get_technique(
    _principal: CurrentPrincipal,
    tid: str = Path(pattern=TID_PATTERN, description="Technique id such as T1059.001"),
) -> TechniqueDetail:
    found = attack.lookup(tid)
    if found is None:
        raise NotFound(
            f"technique {tid.upper()} is not in the bundled ATT&CK {attack.attack_version()} index"
        )
    return TechniqueDetail.model_validate({**asdict(found), "attack_version": attack.attack_version()})


@router.get(
    "/search",
    response_model=Page[TechniqueOut],
    summary="Search techniques by id prefix or name. Permission: any authenticated principal",
)
async def search_techniques(
    _principal: CurrentPrincipal,
    paging: Paging,
    q: str = Query("", max_length=100, description="Id prefix (t1059) or name text; blank lists all"),
) -> Page[TechniqueOut]:
    matches = attack.search(q, limit=None)
    page = matches[paging.skip : paging.skip + paging.limit]
    items = [TechniqueOut.model_validate(t) for t in page]
    return Page(items=items, total=len(matches), skip=paging.skip, limit=paging.limit)
