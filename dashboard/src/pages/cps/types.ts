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

export { DEVICE_HEALTHS as HEALTHS, ATTESTATION_STATUSES } from "../../api/enums";
export { DEVICE_FAMILIES as FAMILIES, FIRMWARE_STACKS as STACKS } from "../../api/enums";
export type Command = S["CommandBody"]["command"];
export { COMMANDS } from "../../api/enums";
