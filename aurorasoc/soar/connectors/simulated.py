"""The default connector: performs nothing and says exactly what it would have done (spec §15.6).

One instance serves every capability. The call itself is recorded in ``connector_actions`` (with
``simulated=true``) by the caller, :func:`aurorasoc.soar.actions.ActionContext.call`.
"""

from __future__ import annotations

from typing import Any

from aurorasoc.soar.connectors.base import Result


class SimulatedConnector:
    name = "simulated"
    simulated = True

    def _would(self, action: str, **args: Any) -> Result:
        return {"status": "simulated", "action": action, "would": args}

    async def isolate_host(self, host: str, reason: str) -> Result:
        return self._would("isolate_host", host=host, reason=reason)

    async def unisolate_host(self, host: str, reason: str) -> Result:
        return self._would("unisolate_host", host=host, reason=reason)

    async def run_scan(self, host: str, scan_type: str) -> Result:
        return self._would("run_scan", host=host, scan_type=scan_type)

    async def collect_forensics(self, host: str, artifacts: list[str]) -> Result:
        return self._would("collect_forensics", host=host, artifacts=artifacts)

    async def kill_process(self, host: str, process: str, reason: str) -> Result:
        return self._would("kill_process", host=host, process=process, reason=reason)

    async def quarantine_file(self, host: str, path: str, reason: str) -> Result:
        return self._would("quarantine_file", host=host, path=path, reason=reason)

    async def block_ip(self, ip: str, duration_s: int, reason: str) -> Result:
        return self._would("block_ip", ip=ip, duration_s=duration_s, reason=reason)

    async def unblock_ip(self, ip: str, reason: str) -> Result:
        return self._would("unblock_ip", ip=ip, reason=reason)

    async def isolate_conduit(self, conduit: str, from_zone: str, to_zone: str, reason: str) -> Result:
        return self._would(
            "isolate_conduit", conduit=conduit, from_zone=from_zone, to_zone=to_zone, reason=reason
        )

    async def disable_user(self, user: str, reason: str) -> Result:
        return self._would("disable_user", user=user, reason=reason)

    async def enable_user(self, user: str, reason: str) -> Result:
        return self._would("enable_user", user=user, reason=reason)

    async def revoke_certificate(self, serial: str, reason: str) -> Result:
        return self._would("revoke_certificate", serial=serial, reason=reason)

    async def notify(self, channel: str, message: str, payload: dict[str, Any]) -> Result:
        return self._would("notify", channel=channel, message=message)

    async def push_firmware(self, device_id: str, bundle_id: str) -> Result:
        return self._would("push_firmware", device_id=device_id, bundle_id=bundle_id)

    async def capture(self, interface: str, duration_s: int, bpf: str) -> Result:
        return self._would("capture", interface=interface, duration_s=duration_s, bpf=bpf)
