"""Connector capabilities as Protocols (spec §15.6).

A connector implements one or more capabilities. Every method returns a JSON-able dict that is
stored as the call's ``result``; failures raise :class:`ConnectorError`. ``name`` and
``simulated`` label the ``connector_actions`` rows written for each call.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

Capability = Literal["edr", "firewall", "identity", "pki", "notify", "firmware", "pcap"]
CAPABILITIES: tuple[Capability, ...] = ("edr", "firewall", "identity", "pki", "notify", "firmware", "pcap")
Result = dict[str, Any]


class ConnectorError(Exception):
    """A connector call that did not do what was asked; ``details`` go into the recorded result."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


@runtime_checkable
class Connector(Protocol):
    name: str
    simulated: bool


class EDRConnector(Connector, Protocol):
    async def isolate_host(self, host: str, reason: str) -> Result: ...

    async def unisolate_host(self, host: str, reason: str) -> Result: ...

    async def run_scan(self, host: str, scan_type: str) -> Result: ...

    async def collect_forensics(self, host: str, artifacts: list[str]) -> Result: ...

    async def kill_process(self, host: str, process: str, reason: str) -> Result: ...

    async def quarantine_file(self, host: str, path: str, reason: str) -> Result: ...


class FirewallConnector(Connector, Protocol):
    async def block_ip(self, ip: str, duration_s: int, reason: str) -> Result: ...

    async def unblock_ip(self, ip: str, reason: str) -> Result: ...

    async def isolate_conduit(self, conduit: str, from_zone: str, to_zone: str, reason: str) -> Result: ...


class IdentityConnector(Connector, Protocol):
    async def disable_user(self, user: str, reason: str) -> Result: ...

    async def enable_user(self, user: str, reason: str) -> Result: ...


class PKIConnector(Connector, Protocol):
    async def revoke_certificate(self, serial: str, reason: str) -> Result: ...


class NotifyConnector(Connector, Protocol):
    async def notify(self, channel: str, message: str, payload: dict[str, Any]) -> Result: ...


class FirmwareConnector(Connector, Protocol):
    async def push_firmware(self, device_id: str, bundle_id: str) -> Result: ...


class PcapConnector(Connector, Protocol):
    async def capture(self, interface: str, duration_s: int, bpf: str) -> Result: ...
