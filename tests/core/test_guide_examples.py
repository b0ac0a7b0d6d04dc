"""The test-writing guide's examples, verbatim, through the contract paths it shows (spec §1.1).

The package-per-capability move rewrote the suite's own imports to the new homes; these keep the
guide's paths (``aurorasoc.models.domain``, ``aurorasoc.services.scheduler``, …) exercised.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

import pytest
from fastapi import HTTPException

from aurorasoc.core.auth import ROLE_PERMISSIONS, create_token, decode_token
from aurorasoc.models.domain import Alert, CPSDevice, FirmwareStack, Role, Severity
from aurorasoc.services.scheduler import BackgroundScheduler


class TestJWTAuth:
    async def test_create_and_decode_token(self) -> None:
        token = create_token(sub="analyst-1", role=Role.ANALYST)
        payload = decode_token(token)
        assert payload.sub == "analyst-1"
        assert payload.role == Role.ANALYST

    async def test_invalid_token_raises_401(self) -> None:
        with pytest.raises(HTTPException) as exc_info:
            decode_token("not.a.real.token")
        assert exc_info.value.status_code == 401


class TestRBAC:
    def test_admin_has_all_permissions(self) -> None:
        perms = ROLE_PERMISSIONS[Role.ADMIN]
        assert "alerts:read" in perms and "cases:write" in perms and "cps:revoke" in perms

    def test_viewer_has_limited_permissions(self) -> None:
        perms = ROLE_PERMISSIONS[Role.VIEWER]
        assert "alerts:read" in perms and "cases:write" not in perms


class TestAlertModel:
    def test_alert_creation(self) -> None:
        alert = Alert(id="alert-001", title="Test alert", severity=Severity.HIGH, source="network")
        assert alert.id == "alert-001"
        assert alert.severity == Severity.HIGH

    def test_severity_enum_values(self) -> None:
        for sev in Severity:
            assert isinstance(sev.value, str)

    def test_cps_names_are_exported(self) -> None:
        assert CPSDevice.__name__ == "CPSDevice" and {s.value for s in FirmwareStack}


async def test_scheduler_creates_tasks() -> None:
    scheduler = BackgroundScheduler()
    with patch.object(scheduler, "_alert_dedup_loop", new=AsyncMock()):  # noqa: SIM117 (as the guide writes it)
        with patch.object(scheduler, "_scheduled_hunt_loop", new=AsyncMock()):
            with patch.object(scheduler, "_expired_approval_loop", new=AsyncMock()):
                with patch.object(scheduler, "_metrics_collector_loop", new=AsyncMock()):
                    await scheduler.start()
                    assert scheduler._running is True
                    assert len(scheduler._tasks) == 4
                    await scheduler.stop()
