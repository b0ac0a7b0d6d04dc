"""Bodies of the /auth routes: login, providers and API keys (spec §7.2, §7.4, §7.5)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aurorasoc.access.api_keys import MAX_KEY_DAYS

KEY_SHOWN_ONCE = "Store this API key securely now. It will not be shown again."


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024, repr=False)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Token lifetime in seconds (JWT_EXPIRY_HOURS * 3600)")


class Provider(BaseModel):
    id: str
    type: Literal["local", "oidc"]
    name: str
    login_url: str | None = None


class ProvidersResponse(BaseModel):
    providers: list[Provider]
    default: Literal["local"] = "local"


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_name: str = Field(min_length=1, max_length=128)
    expires_in_days: int | None = Field(None, ge=1, le=MAX_KEY_DAYS)
    permissions: list[str] | None = Field(
        None, min_length=1, max_length=64, description="Default: the api_service permission set"
    )


class ApiKeyInfo(BaseModel):
    """Key metadata for listings: never the key or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    service_name: str
    key_prefix: str
    permissions: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    """The only response that ever carries the raw key."""

    id: uuid.UUID
    service_name: str
    api_key: str
    key_prefix: str
    permissions: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    message: str = KEY_SHOWN_ONCE
