"""Bodies of the /users routes (spec §7.6). Password hashes never leave the service layer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.core.auth import AuthProvider
from aurorasoc.core.vocabulary import Role

_PASSWORD = Field(min_length=1, max_length=1024, repr=False)


class Me(BaseModel):
    username: str
    display_name: str | None = None
    email: str | None = None
    role: Role
    permissions: list[str] = Field(description="Sorted; the console gates on this list, not the role")
    auth_provider: AuthProvider


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str | None
    email: str | None
    role: Role
    auth_provider: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def audit_snapshot(self) -> dict[str, Any]:
        """The fields worth comparing in a before/after audit entry."""
        return self.model_dump(mode="json", include={"role", "is_active", "display_name", "email"})


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = _PASSWORD
    new_password: str = _PASSWORD


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = _PASSWORD
    role: Role
    display_name: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=255)


class UserUpdate(BaseModel):
    """Only the fields sent are changed; ``display_name``/``email`` may be set to null."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None
    display_name: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=255)
    password: str | None = Field(None, min_length=1, max_length=1024, repr=False)

    def profile_changes(self) -> dict[str, str | None]:
        return {
            name: getattr(self, name) for name in ("display_name", "email") if name in self.model_fields_set
        }
