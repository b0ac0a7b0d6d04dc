"""``aurorasoc cps simulate``: a fleet of simulated devices on a real MQTT broker.

Each device has a fresh P-256 key. With ``--api`` and ``--api-key`` the devices are registered
(with their public keys) through ``POST /api/v1/cps/devices``; otherwise their keys are printed so
an operator can register them. Attestation challenges sent by the backend are answered with real
signatures.
"""

from __future__ import annotations

import asyncio

import httpx
import typer

from aurorasoc.cli.common import console, fail, run
from aurorasoc.cps.simulator import SimulatedDevice, run_device

app = typer.Typer(help="CPS / IoT tools.", no_args_is_help=True)


def _broker(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--broker must be HOST:PORT, not {value!r}")
    return host, int(port)


def _register(devices: list[SimulatedDevice], api: str, api_key: str) -> None:
    """Register each device; say truthfully how many were new and how many already existed."""
    headers = {"X-API-Key": api_key}
    existing: list[str] = []
    with httpx.Client(base_url=api.rstrip("/"), headers=headers, timeout=10) as client:
        for device in devices:
            resp = client.post("/api/v1/cps/devices", json=device.registration())
            if resp.status_code == 409:
                existing.append(device.device_id)
            elif resp.status_code != 201:
                fail(f"registering {device.device_id} failed: {resp.status_code} {resp.text[:200]}")
    console.print(
        f"registered {len(devices) - len(existing)} new devices at {api}; {len(existing)} already existed"
    )
    if existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        console.print(
            f"the existing devices ({shown}) keep their enrolled keys, not these simulated keys: "
            "their attestations fail until re-enrolled or deleted"
        )
    sample = devices[0]
    console.print(
        f"attestation reaches 'verified' only once a signed firmware bundle for {sample.device_type} "
        f"{sample.firmware_version} with sha256 {sample.genuine_hash} is registered"
    )


@app.command("simulate")
def simulate(
    devices: int = typer.Option(3, "--devices", "-n", min=1, max=5000, help="How many devices"),
    broker: str = typer.Option("127.0.0.1:1883", "--broker", help="MQTT broker HOST:PORT (plain TCP)"),
    duration: float = typer.Option(60.0, "--duration", min=1, help="Seconds to run"),
    prefix: str = typer.Option("sim", "--prefix", help="Device id prefix"),
    tamper_firmware: bool = typer.Option(False, "--tamper-firmware", help="Report a modified firmware hash"),
    replay_nonce: bool = typer.Option(False, "--replay-nonce", help="Send every attestation response twice"),
    silent: bool = typer.Option(False, "--silent", help="Stop all traffic after the first heartbeat"),
    api: str | None = typer.Option(None, "--api", help="AuroraSOC base URL to register the devices"),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="AURORA_API_KEY", help="API key with cps:write"
    ),
) -> None:
    """Publish heartbeats, telemetry and badge events; answer attestation challenges."""
    host, port = _broker(broker)
    fleet = [
        SimulatedDevice(
            f"{prefix}-{i:04d}", tamper_firmware=tamper_firmware, replay_nonce=replay_nonce, silent=silent
        )
        for i in range(devices)
    ]
    if api and api_key:
        _register(fleet, api, api_key)
    else:
        for device in fleet:
            console.print(f"# {device.device_id} firmware sha256 {device.genuine_hash}")
            console.print(device.public_key_pem, highlight=False)

    async def _run() -> None:
        await asyncio.gather(*(run_device(host, port, d, duration) for d in fleet))

    console.print(f"simulating {devices} devices on {host}:{port} for {duration:.0f} s")
    run(_run)
