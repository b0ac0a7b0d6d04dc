"""Simulated CPS devices speaking the real MQTT contract (spec §12) with real P-256 keys.

Used by ``aurorasoc cps simulate``, the tests and ``bench/cps.py``: heartbeats, telemetry, badge
events and signed attestation responses. Misbehaviours on request: ``tamper_firmware`` reports a
hash that is not the image's, ``replay_nonce`` sends every response twice, ``silent`` stops all
traffic after the first heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from aurorasoc.cps.attestation_keys import attestation_message, new_private_key, public_pem, sign
from aurorasoc.cps.mqtt_topics import challenge_topic, device_topic

STATUS_EVERY = 30.0
BADGE_EVERY = 20.0


@dataclass
class SimulatedDevice:
    device_id: str
    device_type: str = "door_controller"
    board_family: str = "esp32s3"
    firmware_stack: str = "zephyr"
    firmware_version: str = "1.0.0"
    location: str | None = None
    zone_id: str | None = None
    boot_count: int = 1
    tamper_firmware: bool = False
    replay_nonce: bool = False
    silent: bool = False
    key: ec.EllipticCurvePrivateKey = field(default_factory=new_private_key, repr=False)

    @property
    def image(self) -> bytes:
        return f"aurorasoc simulated firmware {self.device_type} {self.firmware_version}".encode()

    @property
    def genuine_hash(self) -> str:
        return hashlib.sha256(self.image).hexdigest()

    @property
    def reported_hash(self) -> str:
        return (
            hashlib.sha256(self.image + b"+implant").hexdigest()
            if self.tamper_firmware
            else self.genuine_hash
        )

    @property
    def public_key_pem(self) -> str:
        return public_pem(self.key)

    def registration(self) -> dict[str, Any]:
        """The §18 registration body for this device."""
        return {"device_id": self.device_id, "device_type": self.device_type,
                "name": f"Simulated {self.device_id}", "firmware_stack": self.firmware_stack,
                "board_family": self.board_family,
                "firmware_version": self.firmware_version, "location": self.location, "zone_id": self.zone_id,
                "public_key_pem": self.public_key_pem}  # fmt: skip

    def status(self, uptime_s: float = 0.0) -> dict[str, Any]:
        return {"device_type": self.device_type, "board_family": self.board_family,
                "firmware_stack": self.firmware_stack, "firmware_version": self.firmware_version,
                "uptime_s": round(uptime_s, 1), "location": self.location}  # fmt: skip

    def attestation_response(self, nonce: str) -> dict[str, Any]:
        digest = self.reported_hash
        signature = sign(self.key, attestation_message(self.device_id, digest, self.boot_count, nonce))
        return {"device_id": self.device_id, "firmware_hash": digest, "boot_count": self.boot_count,
                "signature_hex": signature, "nonce": nonce, "board_family": self.board_family,
                "firmware_stack": self.firmware_stack, "firmware_version": self.firmware_version}  # fmt: skip

    def topic(self, suffix: str) -> str:
        group = "access" if suffix == "badge_event" else "attestation" if suffix == "response" else "sensors"
        return device_topic(group, self.device_id, suffix)


async def send(client: aiomqtt.Client, device: SimulatedDevice, suffix: str, data: dict[str, Any]) -> None:
    await client.publish(device.topic(suffix), orjson.dumps(data), qos=1)


async def answer_challenges(client: aiomqtt.Client, devices: dict[str, SimulatedDevice]) -> None:
    """Reply to every ``aurora/attestation/<id>/request`` for the given devices (subscribe first)."""
    async for message in client.messages:
        device_id = str(message.topic).split("/")[2]
        device = devices.get(device_id)
        if device is None or device.silent:
            continue
        nonce = str(orjson.loads(bytes(message.payload))["nonce"])
        response = device.attestation_response(nonce)
        for _ in range(2 if device.replay_nonce else 1):
            await send(client, device, "response", response)


async def subscribe_challenges(client: aiomqtt.Client, devices: dict[str, SimulatedDevice]) -> None:
    for device_id in devices:
        await client.subscribe(challenge_topic(device_id), qos=1)


async def _traffic(client: aiomqtt.Client, device: SimulatedDevice, duration: float) -> None:
    loop = asyncio.get_running_loop()
    start = last_status = last_badge = loop.time()
    await send(client, device, "status", device.status())
    while not device.silent and (now := loop.time()) - start < duration:
        if now - last_status >= STATUS_EVERY:
            await send(client, device, "status", device.status(now - start))
            last_status = now
        value = 21.0 + 0.5 * math.sin(now / 60) + random.gauss(0, 0.05)
        await send(
            client, device, "telemetry", {"metric": "temperature", "value": round(value, 3), "unit": "C"}
        )
        if now - last_badge >= BADGE_EVERY:
            await send(client, device, "badge_event", {"badge_id": f"badge-{device.device_id}"})
            last_badge = now
        await asyncio.sleep(1.0)


async def run_device(host: str, port: int, device: SimulatedDevice, duration: float) -> None:
    """One device on its own connection for ``duration`` seconds."""
    async with aiomqtt.Client(host, port, identifier=f"sim-{device.device_id}") as client:
        devices = {device.device_id: device}
        await subscribe_challenges(client, devices)
        responder = asyncio.create_task(answer_challenges(client, devices))
        try:
            await _traffic(client, device, duration)
            if device.silent:
                await asyncio.sleep(duration)
        finally:
            responder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await responder
