"""ATT&CK technique shapes (spec §13.7)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TechniqueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    tactics: list[str]
    parent: str | None
    is_subtechnique: bool
    deprecated: bool
    revoked: bool
    domain: str
    url: str


class TechniqueDetail(TechniqueOut):
    attack_version: str
