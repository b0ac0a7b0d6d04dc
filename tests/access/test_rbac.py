"""Tests for aurorasoc.core.rbac / the role matrix exposed by aurorasoc.core.auth."""

from __future__ import annotations

import pytest

from aurorasoc.core.auth import ROLE_PERMISSIONS, Role
from aurorasoc.core.rbac import ALL_PERMISSIONS, has_permission, missing_permissions

WRITE_LIKE = (":write", ":decide", ":execute", ":manage", ":close", ":dispatch", ":investigate", ":generate")


class TestRBAC:
    def test_admin_has_all_permissions(self):
        """Admin role includes read, write, and revoke."""
        perms = ROLE_PERMISSIONS[Role.ADMIN]
        assert "alerts:read" in perms
        assert "cases:write" in perms
        assert "cps:revoke" in perms

    def test_viewer_has_limited_permissions(self):
        """Viewer role is read-only."""
        perms = ROLE_PERMISSIONS[Role.VIEWER]
        assert "alerts:read" in perms
        assert "cases:write" not in perms


class TestMatrix:
    def test_there_are_32_permissions(self):
        assert len(ALL_PERMISSIONS) == 32
        assert len(set(ALL_PERMISSIONS)) == 32

    def test_admin_lists_every_permission_explicitly_plus_wildcard(self):
        assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(ALL_PERMISSIONS) | {"*"}

    def test_every_role_has_an_entry(self):
        assert set(ROLE_PERMISSIONS) == set(Role)

    def test_no_role_grants_unknown_permissions(self):
        known = set(ALL_PERMISSIONS) | {"*"}
        for role, perms in ROLE_PERMISSIONS.items():
            assert perms <= known, role

    def test_viewer_has_no_mutating_permission(self):
        assert not [p for p in ROLE_PERMISSIONS[Role.VIEWER] if p.endswith(WRITE_LIKE)]

    @pytest.mark.parametrize(
        ("role", "permission", "granted"),
        [
            (Role.ANALYST, "approvals:decide", True),
            (Role.ANALYST, "users:manage", False),
            (Role.ANALYST, "cps:write", False),
            (Role.OPERATOR, "cps:attest", True),
            (Role.OPERATOR, "cps:revoke", False),
            (Role.OPERATOR, "playbooks:execute", True),
            (Role.OPERATOR, "playbooks:write", False),
            (Role.OPERATOR, "ws:agent_thoughts", False),
            (Role.VIEWER, "reports:read", True),
            (Role.VIEWER, "reports:generate", False),
            (Role.API_SERVICE, "siem:write", True),
            (Role.API_SERVICE, "dashboard:read", False),
            (Role.API_SERVICE, "cases:read", False),
        ],
    )
    def test_spec_matrix_samples(self, role, permission, granted):
        assert (permission in ROLE_PERMISSIONS[role]) is granted


class TestHasPermission:
    def test_wildcard_grants_anything(self):
        assert has_permission({"*"}, "firmware:update")

    def test_missing_lists_all_absent_in_order(self):
        assert missing_permissions({"alerts:write"}, ["alerts:write", "cases:write", "cases:close"]) == [
            "cases:write",
            "cases:close",
        ]
