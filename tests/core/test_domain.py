"""Tests for aurorasoc.core.vocabulary."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aurorasoc.core.auth import Role as AuthRole
from aurorasoc.core.vocabulary import (
    Alert,
    AlertCreate,
    CPSDevice,
    FirmwareStack,
    PlaybookDefinition,
    Role,
    Severity,
)


class TestAlertModel:
    def test_alert_creation(self):
        """Alert domain model accepts all fields."""
        alert = Alert(
            id="alert-001",
            title="Test alert",
            severity=Severity.HIGH,
            source="network",
        )
        assert alert.id == "alert-001"
        assert alert.severity == Severity.HIGH

    def test_severity_enum_values(self):
        """All severity variants are string-valued."""
        for sev in Severity:
            assert isinstance(sev.value, str)

    def test_defaults_are_not_shared_between_instances(self):
        a = Alert(id="a", title="t", severity=Severity.LOW, source="s")
        b = Alert(id="b", title="t", severity=Severity.LOW, source="s")
        a.iocs.append("1.2.3.4")
        assert b.iocs == []

    def test_severity_rank_orders_critical_highest(self):
        assert sorted(Severity, key=lambda s: s.rank)[-1] is Severity.CRITICAL
        assert Severity.HIGH.rank > Severity.MEDIUM.rank > Severity.LOW.rank > Severity.INFO.rank

    def test_unknown_severity_rejected(self):
        with pytest.raises(ValidationError):
            Alert(id="a", title="t", severity="urgent", source="s")


class TestAlertCreate:
    def test_blank_title_rejected(self):
        with pytest.raises(ValidationError):
            AlertCreate(title="   ", source="s")

    def test_unknown_fields_rejected(self):
        with pytest.raises(ValidationError):
            AlertCreate(title="t", source="s", dedup_hash="x")

    def test_title_over_500_chars_rejected(self):
        with pytest.raises(ValidationError):
            AlertCreate(title="x" * 501, source="s")


class TestRole:
    def test_members_and_values(self):
        assert {r.name: r.value for r in Role} == {
            "ADMIN": "admin",
            "ANALYST": "analyst",
            "OPERATOR": "operator",
            "VIEWER": "viewer",
            "API_SERVICE": "api_service",
        }

    def test_auth_role_is_domain_role(self):
        assert AuthRole is Role


class TestCPSDevice:
    def test_valid_device(self):
        device = CPSDevice(
            device_id="esp32_gw_01", name="Gateway", device_type="gateway", firmware_stack="zephyr"
        )
        assert device.firmware_stack is FirmwareStack.ZEPHYR

    @pytest.mark.parametrize("device_id", ["bad/id", "", "x" * 65, "dev id"])
    def test_device_id_pattern_enforced(self, device_id):
        with pytest.raises(ValidationError):
            CPSDevice(device_id=device_id, name="n", device_type="t", firmware_stack=FirmwareStack.ESP_IDF)


class TestPlaybookDefinition:
    def test_name_must_be_kebab_case(self):
        step = {
            "name": "notify_team",
            "action": "notify",
            "action_class": "write_internal",
            "parameters": {},
            "timeout": 5,
        }
        base = {
            "description": "d",
            "severity_filter": "high",
            "enabled": True,
            "requires_approval": False,
            "steps": [step],
        }
        assert PlaybookDefinition(name="brute-force-mitigation", **base).name == "brute-force-mitigation"
        with pytest.raises(ValidationError):
            PlaybookDefinition(name="Brute_Force", **base)

    def test_requires_at_least_one_step(self):
        with pytest.raises(ValidationError):
            PlaybookDefinition(
                name="p",
                description="d",
                severity_filter="low",
                enabled=True,
                requires_approval=False,
                steps=[],
            )
