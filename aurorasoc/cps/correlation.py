"""Physical-cyber correlation (spec §18): per-device baselines and the five correlation types.

:class:`CorrelationEngine` is pure, in-memory state fed by the MQTT ingest (one per consumer
process), so every rule is testable without a broker or database. Baselines are running mean/sigma
per (device, metric), seeded at start from the last 24 h of ``cps_telemetry``
(:mod:`aurorasoc.cps.baselines`), then updated per reading and restarted every 24 h; a
metric is judged after ``MIN_SAMPLES`` readings. Deviation, stated plainly: the hourly
message-rate baseline is the mean per-minute rate of the previous minutes of the last hour.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aurorasoc.core.vocabulary import CorrelationType, Severity

WINDOW = timedelta(minutes=5)
SIGMAS = 4.0
MIN_SAMPLES = 30
BASELINE_RESET = timedelta(hours=24)
FLATLINE = timedelta(minutes=30)
RATE_FACTOR = 5.0
RATE_MIN_HISTORY_MINUTES = 10
BADGE_ZONE_WINDOW = timedelta(seconds=60)
TAMPER_METRICS = ("vibration", "tamper", "shock", "enclosure_open")
SEVERITY = {
    CorrelationType.PHYSICAL_TAMPER: Severity.CRITICAL,
    CorrelationType.FIRMWARE_MISMATCH: Severity.CRITICAL,
    CorrelationType.ANOMALOUS_TELEMETRY: Severity.MEDIUM,
    CorrelationType.COMMUNICATION_ANOMALY: Severity.HIGH,
    CorrelationType.LOCATION_ANOMALY: Severity.HIGH,
}


@dataclass(frozen=True)
class Finding:
    type: CorrelationType
    device_id: str
    summary: str
    evidence: dict[str, Any]

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.type]


@dataclass
class Baseline:
    """Welford running mean/variance, plus how long the value has not changed."""

    started: datetime
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    last: float | None = None
    constant_since: datetime | None = None

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0

    def add(self, value: float, ts: datetime) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)
        if self.last != value:
            self.last, self.constant_since = value, ts


@dataclass
class _DeviceState:
    minutes: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=61))  # (minute, count)
    tamper_at: datetime | None = None
    auth_failure_at: datetime | None = None
    flatlined: set[str] = field(default_factory=set)
    rate_baseline: float | None = None  # mean per-minute count before the current minute (None: too few)


class CorrelationEngine:
    def __init__(self) -> None:
        self.baselines: dict[tuple[str, str], Baseline] = {}
        self.devices: dict[str, _DeviceState] = {}
        self.badges: dict[str, tuple[str, datetime, str]] = {}  # badge → (zone, when, device)

    def seed(self, baselines: dict[tuple[str, str], Baseline]) -> None:
        """Start from stored history; a baseline already built from live readings is kept."""
        for key, baseline in baselines.items():
            self.baselines.setdefault(key, baseline)

    def _state(self, device_id: str) -> _DeviceState:
        state = self.devices.get(device_id)
        if state is None:
            state = self.devices[device_id] = _DeviceState()
        return state

    def message(self, device_id: str, ts: datetime) -> list[Finding]:
        """Count a message; COMMUNICATION_ANOMALY when this minute exceeds 5x the hourly per-minute mean.

        The baseline is worked out once per device and minute (when the minute's first message
        opens its count), not per message: at a fleet's rate this runs thousands of times a second.
        """
        state = self._state(device_id)
        minutes = state.minutes
        minute = int(ts.timestamp() // 60)
        if minutes and minutes[-1][0] == minute:
            minutes[-1] = (minute, minutes[-1][1] + 1)
        else:
            history = [c for m, c in minutes if minute - 60 <= m < minute]
            enough = len(history) >= RATE_MIN_HISTORY_MINUTES
            state.rate_baseline = sum(history) / len(history) if enough else None
            minutes.append((minute, 1))
        baseline, current = state.rate_baseline, minutes[-1][1]
        if baseline is None or current != math.floor(RATE_FACTOR * baseline) + 1:
            return []  # reported once, when the threshold is crossed
        evidence = {"messages_this_minute": current, "baseline_per_minute": round(baseline, 2)}
        return [
            Finding(CorrelationType.COMMUNICATION_ANOMALY, device_id, "message rate > 5x baseline", evidence)
        ]

    def identity_mismatch(self, topic_id: str, payload_id: str) -> Finding:
        evidence = {"topic_device_id": topic_id, "payload_device_id": payload_id}
        return Finding(
            CorrelationType.COMMUNICATION_ANOMALY, topic_id, "payload device_id differs from topic", evidence
        )

    def telemetry(
        self, device_id: str, zone: str | None, metric: str, value: float, ts: datetime
    ) -> list[Finding]:
        key = (device_id, metric)
        base = self.baselines.get(key)
        if base is None or ts - base.started > BASELINE_RESET:
            base = self.baselines[key] = Baseline(started=ts)
        findings = self._outlier(device_id, zone, metric, value, ts, base)
        base.add(value, ts)
        findings += self._flatline(device_id, metric, ts, base)
        return findings

    def _outlier(
        self, device_id: str, zone: str | None, metric: str, value: float, ts: datetime, base: Baseline
    ) -> list[Finding]:
        if base.n < MIN_SAMPLES or abs(value - base.mean) <= SIGMAS * max(base.std, 1e-9):
            return []
        evidence = {"metric": metric, "value": value, "mean": round(base.mean, 4), "std": round(base.std, 4),
                    "samples": base.n, "zone_id": zone}  # fmt: skip
        summary = f"{metric} outside mean +/- 4 sigma"
        findings = [Finding(CorrelationType.ANOMALOUS_TELEMETRY, device_id, summary, evidence)]
        if metric in TAMPER_METRICS and value > base.mean:
            findings += self.tamper_signal(device_id, ts, evidence)
        return findings

    def _flatline(self, device_id: str, metric: str, ts: datetime, base: Baseline) -> list[Finding]:
        state = self._state(device_id)
        if base.constant_since is None or ts - base.constant_since <= FLATLINE:
            state.flatlined.discard(metric)
            return []
        if metric in state.flatlined:
            return []
        state.flatlined.add(metric)
        evidence = {"metric": metric, "value": base.last, "constant_since": base.constant_since.isoformat()}
        return [
            Finding(CorrelationType.ANOMALOUS_TELEMETRY, device_id, f"{metric} unchanged > 30 min", evidence)
        ]

    def tamper_signal(self, device_id: str, ts: datetime, evidence: dict[str, Any]) -> list[Finding]:
        state = self._state(device_id)
        state.tamper_at = ts
        return self._tamper(device_id, state, {"tamper": evidence})

    def auth_failure(self, device_id: str, ts: datetime, evidence: dict[str, Any]) -> list[Finding]:
        """A badge denial or attestation failure on the device."""
        state = self._state(device_id)
        state.auth_failure_at = ts
        return self._tamper(device_id, state, {"auth_failure": evidence})

    def _tamper(self, device_id: str, state: _DeviceState, evidence: dict[str, Any]) -> list[Finding]:
        if state.tamper_at is None or state.auth_failure_at is None:
            return []
        if abs(state.tamper_at - state.auth_failure_at) > WINDOW:
            return []
        full = {
            **evidence,
            "tamper_at": state.tamper_at.isoformat(),
            "auth_failure_at": state.auth_failure_at.isoformat(),
        }
        state.tamper_at = state.auth_failure_at = None
        return [
            Finding(CorrelationType.PHYSICAL_TAMPER, device_id, "tamper signal with an auth failure", full)
        ]

    def location(self, device_id: str, registered: str | None, reported: str | None) -> list[Finding]:
        if not registered or not reported or registered == reported:
            return []
        evidence = {"registered": registered, "reported": reported}
        return [Finding(CorrelationType.LOCATION_ANOMALY, device_id, "reported location differs", evidence)]

    def badge(self, badge_id: str, zone: str | None, device_id: str, ts: datetime) -> list[Finding]:
        """One badge used in two zones within 60 s."""
        previous = self.badges.get(badge_id)
        if zone:
            self.badges[badge_id] = (zone, ts, device_id)
        if previous is None or not zone or previous[0] == zone or ts - previous[1] > BADGE_ZONE_WINDOW:
            return []
        evidence = {"badge_id": badge_id, "zones": [previous[0], zone], "devices": [previous[2], device_id],
                    "seconds_apart": round((ts - previous[1]).total_seconds(), 1)}  # fmt: skip
        return [
            Finding(
                CorrelationType.LOCATION_ANOMALY, device_id, "badge used in two zones within 60 s", evidence
            )
        ]
