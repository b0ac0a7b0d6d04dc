"""Role-based access control: the permission vocabulary and the role matrix (spec §8)."""

from __future__ import annotations

from collections.abc import Iterable

from aurorasoc.core.vocabulary import Role

ALL_PERMISSIONS: tuple[str, ...] = (
    "alerts:read",
    "alerts:write",
    "alerts:investigate",
    "cases:read",
    "cases:write",
    "cases:close",
    "agents:read",
    "agents:dispatch",
    "playbooks:read",
    "playbooks:write",
    "playbooks:execute",
    "approvals:read",
    "approvals:decide",
    "iocs:read",
    "iocs:write",
    "siem:read",
    "siem:write",
    "detections:write",
    "cps:read",
    "cps:write",
    "cps:attest",
    "cps:revoke",
    "sites:read",
    "firmware:read",
    "firmware:update",
    "reports:read",
    "reports:generate",
    "dashboard:read",
    "users:manage",
    "settings:manage",
    "ws:alerts",
    "ws:agent_thoughts",
)

WILDCARD = "*"

_ANALYST = frozenset(
    {
        "alerts:read",
        "alerts:write",
        "alerts:investigate",
        "cases:read",
        "cases:write",
        "cases:close",
        "agents:read",
        "agents:dispatch",
        "playbooks:read",
        "playbooks:write",
        "playbooks:execute",
        "approvals:read",
        "approvals:decide",
        "iocs:read",
        "iocs:write",
        "siem:read",
        "siem:write",
        "detections:write",
        "cps:read",
        "reports:read",
        "reports:generate",
        "dashboard:read",
        "ws:alerts",
        "ws:agent_thoughts",
    }
)

_OPERATOR = frozenset(
    {
        "alerts:read",
        "cases:read",
        "agents:read",
        "playbooks:read",
        "playbooks:execute",
        "cps:read",
        "cps:write",
        "cps:attest",
        "sites:read",
        "firmware:read",
        "firmware:update",
        "dashboard:read",
        "ws:alerts",
    }
)

_VIEWER = frozenset(
    {"alerts:read", "cases:read", "agents:read", "reports:read", "dashboard:read", "ws:alerts"}
)

_API_SERVICE = frozenset(
    {"alerts:read", "alerts:write", "iocs:read", "iocs:write", "siem:read", "siem:write"}
)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(ALL_PERMISSIONS) | {WILDCARD},
    Role.ANALYST: _ANALYST,
    Role.OPERATOR: _OPERATOR,
    Role.VIEWER: _VIEWER,
    Role.API_SERVICE: _API_SERVICE,
}

# Precedence when one identity maps to several roles (OIDC claims): strongest first.
ROLE_PRECEDENCE: tuple[Role, ...] = (Role.ADMIN, Role.ANALYST, Role.OPERATOR, Role.VIEWER)


def has_permission(permissions: Iterable[str], permission: str) -> bool:
    perms = permissions if isinstance(permissions, frozenset | set) else set(permissions)
    return WILDCARD in perms or permission in perms


def missing_permissions(permissions: Iterable[str], required: Iterable[str]) -> list[str]:
    perms = frozenset(permissions)
    return [p for p in required if not has_permission(perms, p)]
