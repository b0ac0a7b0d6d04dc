/** Realistic /cps bodies for cps.spec.ts (shapes of aurorasoc/cps/schemas.py). */
import type { Schemas } from "./schema";

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

const device = (overrides: Partial<Schemas["DeviceOut"]>): Schemas["DeviceOut"] => ({
  device_id: "door-ctl-01",
  name: "Server room door controller",
  device_type: "door_controller",
  firmware_stack: "zephyr",
  board_family: "nrf52840",
  firmware_version: "1.4.2",
  location: "DC1 / server room",
  zone_id: "dc1-restricted",
  attestation_status: "verified",
  trusted: true,
  health: "online",
  risk_score: 12,
  boot_count: 41,
  last_seen_at: minutesAgo(1),
  last_attested_at: minutesAgo(20),
  has_public_key: true,
  metadata: {},
  created_at: minutesAgo(60 * 24 * 30),
  firmware_state: "verified",
  firmware_reason: null,
  quarantined: false,
  ...overrides,
});

export const DEVICE = device({});
export const FAILED_DEVICE = device({
  device_id: "plc-gw-07", name: "Cooling PLC gateway", device_type: "plc_gateway", firmware_stack: "rust_embassy", board_family: "esp32s3",
  zone_id: "dc1-ot", attestation_status: "failed", trusted: false, health: "stale", risk_score: 80, last_seen_at: minutesAgo(9),
  firmware_state: "mismatch", firmware_reason: "the reported hash differs from the registered signed bundle",
});
export const PENDING_DEVICE = device({
  device_id: "env-sensor-12", name: "Hall B environment sensor", device_type: "env_sensor", firmware_stack: "ada_spark", board_family: "stm32",
  zone_id: null, attestation_status: "unknown", trusted: false, health: "offline", risk_score: 40, last_seen_at: minutesAgo(180), has_public_key: false,
  firmware_state: "unknown", firmware_reason: "no firmware hash reported yet (the device has not answered an attestation challenge)",
});

export const SUMMARY = {
  total: 3, trusted: 1,
  health: { online: 1, stale: 1, offline: 1 },
  attestation: { unknown: 1, pending: 0, verified: 1, failed: 1, revoked: 0 },
  average_risk: 44,
} satisfies Schemas["FleetSummary"];

/** 30 readings per metric, newest first as the API returns them. */
function readings(metric: string, unit: string, base: number, swing: number) {
  return Array.from({ length: 30 }, (_, i) => ({
    metric, unit, value: Math.round((base + swing * Math.sin(i / 3)) * 100) / 100, timestamp: minutesAgo(i * 2),
  }));
}

export const TELEMETRY = {
  device_id: DEVICE.device_id,
  items: [...readings("temperature", "°C", 24, 2), ...readings("vibration", "g", 0.2, 0.1)],
  total: 60,
} satisfies Schemas["TelemetrySeries"];

export const ATTESTATIONS = [
  { nonce: "9f2c1d0e8a7b6c5d4e3f2a1b0c9d8e7f", firmware_hash: "a3f1c9e2".repeat(8), boot_count: 41, firmware_version: "1.4.2", result: "verified", reason: null, created_at: minutesAgo(20) },
  { nonce: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", firmware_hash: "b7d2e4f6".repeat(8), boot_count: 40, firmware_version: "1.4.1", result: "failed", reason: "FIRMWARE_MISMATCH", created_at: minutesAgo(90) },
] satisfies Schemas["AttestationRecordOut"][];

export const DEVICE_DETAIL = { ...DEVICE, telemetry: TELEMETRY.items.slice(0, 10), attestations: ATTESTATIONS } satisfies Schemas["DeviceDetail"];

export const CORRELATION = {
  alert_id: "3c9d1e2f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
  correlation_type: "PHYSICAL_TAMPER",
  severity: "critical",
  title: "Physical tamper at door-ctl-01 with badge denial",
  device_id: DEVICE.device_id,
  evidence: { vibration: 1.9, baseline_mean: 0.2 },
  created_at: minutesAgo(30),
} satisfies Schemas["CorrelationOut"];

export const ZONE = { id: "6f1e2d3c-4b5a-4968-8776-655443322110", name: "dc1-restricted", security_level: "SL3", fail_mode: "fail_secure", site_id: "dc1", created_at: minutesAgo(5000) } satisfies Schemas["ZoneOut"];
export const OT_ZONE = { ...ZONE, id: "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", name: "dc1-ot", security_level: "SL2", fail_mode: "fail_safe" } satisfies Schemas["ZoneOut"];

export const CONDUIT = {
  id: "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a", name: "restricted-to-ot", from_zone_id: ZONE.id, to_zone_id: OT_ZONE.id,
  protocols: ["modbus", "mqtt"], status: "open", created_at: minutesAgo(5000),
} satisfies Schemas["ConduitOut"];

export const BADGE = {
  id: "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b", badge_id: "B-1042", holder: "J. Rivera", zone_ids: ["dc1-restricted"],
  enabled: true, valid_until: null, created_at: minutesAgo(5000),
} satisfies Schemas["BadgeOut"];
