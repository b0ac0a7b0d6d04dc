"""Sigma logsource derivation (spec §13.2 table)."""

from __future__ import annotations

from typing import Any

import pytest

from aurorasoc.detection.sigma.logsource import categories_for, derive_logsource, services_for

SYSMON = "Microsoft-Windows-Sysmon/Operational"


class TestSysmon:
    @pytest.mark.parametrize(
        ("eid", "category"),
        [
            (1, "process_creation"),
            (3, "network_connection"),
            (5, "process_termination"),
            (6, "driver_load"),
            (7, "image_load"),
            (8, "create_remote_thread"),
            (10, "process_access"),
            (11, "file_event"),
            (12, "registry_event"),
            (13, "registry_event"),
            (14, "registry_event"),
            (15, "create_stream_hash"),
            (17, "pipe_created"),
            (18, "pipe_created"),
            (19, "wmi_event"),
            (21, "wmi_event"),
            (22, "dns_query"),
            (23, "file_delete"),
            (26, "file_delete"),
        ],
    )
    def test_category_by_event_id(self, eid: int, category: str) -> None:
        fields = {"Channel": SYSMON, "EventID": eid}
        assert derive_logsource(fields, "evtx") == ("windows", category, "sysmon")
        assert category in categories_for(fields, "evtx")

    def test_registry_specific_categories(self) -> None:
        assert "registry_set" in categories_for({"Channel": SYSMON, "EventID": 13}, "evtx")
        add = categories_for({"Channel": SYSMON, "EventID": 12, "EventType": "CreateKey"}, "evtx")
        assert add == {"registry_event", "registry_add"}
        delete = categories_for({"Channel": SYSMON, "EventID": "12", "EventType": "DeleteValue"}, "json")
        assert delete == {"registry_event", "registry_delete"}
        assert categories_for({"Channel": SYSMON, "EventID": 12}, "evtx") >= {
            "registry_add",
            "registry_delete",
        }


class TestWindowsChannels:
    @pytest.mark.parametrize(
        ("channel", "eid", "expected"),
        [
            ("Security", 4624, (None, "security")),
            ("Security", 4688, ("process_creation", "security")),
            ("System", 7045, (None, "system")),
            ("Application", 1000, (None, "application")),
            ("Microsoft-Windows-PowerShell/Operational", 4104, ("ps_script", "powershell")),
            ("Microsoft-Windows-PowerShell/Operational", 4103, ("ps_module", "powershell")),
            ("Windows PowerShell", 400, ("ps_classic_start", "powershell-classic")),
            ("Microsoft-Windows-TaskScheduler/Operational", 106, (None, "taskscheduler")),
            ("Microsoft-Windows-Windows Defender/Operational", 1116, (None, "windefend")),
            ("Microsoft-Windows-DNS-Client/Operational", 3008, (None, "dns-client")),
            ("Microsoft-Windows-Bits-Client/Operational", 59, (None, "bits-client")),
            ("Microsoft-Windows-WMI-Activity/Operational", 5861, (None, "wmi")),
            ("Microsoft-Windows-CodeIntegrity/Operational", 3033, (None, "codeintegrity-operational")),
            ("Microsoft-Windows-NTLM/Operational", 8001, (None, "ntlm")),
            ("Microsoft-Windows-AppLocker/EXE and DLL", 8004, (None, "applocker")),
            ("Some-Vendor/Custom", 1, (None, None)),
        ],
    )
    def test_service_and_category(
        self, channel: str, eid: int, expected: tuple[str | None, str | None]
    ) -> None:
        assert derive_logsource({"Channel": channel, "EventID": eid}, "evtx") == ("windows", *expected)

    def test_classic_powershell_also_answers_to_powershell(self) -> None:
        assert services_for({"Channel": "Windows PowerShell", "EventID": 800}, "evtx") == {
            "powershell-classic",
            "powershell",
        }


class TestOtherFormats:
    @pytest.mark.parametrize(
        ("fields", "fmt", "expected"),
        [
            ({"program": "sshd", "facility": "auth"}, "syslog", ("linux", None, "sshd")),
            ({"program": "CRON", "facility": "cron"}, "syslog", ("linux", None, "cron")),
            ({"facility": "authpriv"}, "syslog", ("linux", None, "auth")),
            ({"event_type": "dns"}, "eve", ("suricata", "dns", None)),
            ({"event_type": "http"}, "eve", ("suricata", "proxy", None)),
            ({"event_type": "flow"}, "eve", ("suricata", "firewall", None)),
            ({"event_type": "alert"}, "eve", ("suricata", None, None)),
            ({"_path": "dns"}, "zeek", ("zeek", "dns", "dns")),
            ({"deviceVendor": "Fortinet", "deviceProduct": "FortiGate", "act": "deny"}, "cef", (
                "fortinet_fortigate", "firewall", None,
            )),
            ({"deviceVendor": "Acme", "deviceProduct": "IDS"}, "cef", ("acme_ids", None, None)),
            ({"message": "x"}, "line", (None, None, None)),
            ({"message": "x"}, "json", (None, None, None)),
        ],
    )  # fmt: skip
    def test_table(self, fields: dict[str, Any], fmt: str, expected: tuple[str | None, ...]) -> None:
        assert derive_logsource(fields, fmt) == expected

    def test_syslog_auth_facility_adds_auth_service(self) -> None:
        assert services_for({"program": "sshd", "facility": "auth"}, "syslog") == {"sshd", "auth"}
        assert services_for({"program": "nginx", "facility": "daemon"}, "syslog") == {"nginx"}
        assert categories_for({"program": "sshd"}, "syslog") == set()
