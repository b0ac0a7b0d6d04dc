/** CPS/IoT shapes, taken from the generated OpenAPI schema (kept here so the CPS pages stay self-contained). */
import type { components } from "../../api/schema";

type S = components["schemas"];

export type Device = S["DeviceOut"];
export type DeviceDetail = S["DeviceDetail"];
export type Telemetry = S["TelemetryOut"];
export type TelemetrySeries = S["TelemetrySeries"];
export type AttestationRecord = S["AttestationRecordOut"];
export type FleetSummary = S["FleetSummary"];
export type Correlation = S["CorrelationOut"];
export type Zone = S["ZoneOut"];
export type Conduit = S["ConduitOut"];
export type Badge = S["BadgeOut"];
export type Challenge = S["ChallengeOut"];
export type CommandResult = S["CommandOut"];
export type EnrollmentToken = S["EnrollmentTokenOut"];

export const HEALTHS: S["DeviceHealth"][] = ["online", "stale", "offline"];
export const ATTESTATION_STATUSES: S["AttestationStatus"][] = ["unknown", "pending", "verified", "failed", "revoked"];
export const FAMILIES: S["DeviceFamily"][] = ["esp32s3", "esp32c3", "nrf52840", "stm32"];
export const STACKS: S["FirmwareStack"][] = ["zephyr", "rust_embassy", "ada_spark", "esp_idf"];
export const COMMANDS: S["CommandBody"]["command"][] = ["unlock", "lock", "lockdown", "lockdown_clear", "keepalive"];
