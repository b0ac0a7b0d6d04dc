/** Enum values taken from the OpenAPI schema (`make dashboard-types` generates them), never hand-copied. */
import * as generated from "./schema";
import type { components, paths } from "./schema";

type S = components["schemas"];
export type Severity = S["Severity"];
export type Role = S["Role"];
export type RuntimeMode = S["RuntimeMode"];
export type CaseStatus = S["CaseStatus"];
type AlertSort = NonNullable<NonNullable<paths["/api/v1/alerts"]["get"]["parameters"]["query"]>["sort"]>;

// Stated with the schema's own union types (the generated arrays carry a deep-required wrapper type).
export const ALERT_STATUSES: readonly S["AlertStatus"][] = generated.alertStatusValues;
export const ALERT_SORTS: readonly AlertSort[] = generated.pathsApiV1AlertsGetParametersQuerySortValues;
export const APPROVAL_STATUSES: readonly S["ApprovalStatus"][] = generated.approvalStatusValues;
export const ATTESTATION_STATUSES: readonly S["AttestationStatus"][] = generated.attestationStatusValues;
export const DEVICE_HEALTHS: readonly S["DeviceHealth"][] = generated.deviceHealthValues;
export const EXECUTION_STATUSES: readonly S["ExecutionStatus"][] = generated.executionStatusValues;
export const FEED_KINDS: readonly S["FeedCreate"]["kind"][] = generated.feedCreateKindValues;
export const TLPS: readonly S["FeedCreate"]["tlp"][] = generated.feedCreateTlpValues;
export const IOC_STATUSES: readonly S["IOCStatus"][] = generated.iOCStatusValues;
export const IOC_TYPES: readonly S["IOCType"][] = generated.iOCTypeValues;
export const REPORT_TYPES: readonly S["ReportGenerate"]["report_type"][] = generated.reportGenerateReport_typeValues;
export const ROLES: readonly Role[] = generated.roleValues;
export const MODES: readonly RuntimeMode[] = generated.runtimeModeValues;
export const SEVERITIES: readonly Severity[] = generated.severityValues;
export const COMMANDS: readonly S["CommandBody"]["command"][] = generated.commandBodyCommandValues;
export const DEVICE_FAMILIES: readonly S["DeviceFamily"][] = generated.deviceFamilyValues;
export const FIRMWARE_STACKS: readonly S["FirmwareStack"][] = generated.firmwareStackValues;
export const AGENT_TYPES: readonly S["AgentType"][] = generated.agentTypeValues;
export const ATTACK_STATUSES: readonly S["NetworkAttackOut"]["status"][] = generated.networkAttackOutStatusValues;

/** A URL or form value narrowed to one of the schema's values; anything else (or "") means "not set". */
export function oneOf<T extends string>(values: readonly T[], raw: string | null | undefined): T | undefined {
  return values.find((value) => value === raw);
}

/** A repeatable enum filter (`?status=a&status=b`) from one URL or form value. */
export function listOf<T extends string>(values: readonly T[], raw: string | null | undefined): T[] | undefined {
  const value = oneOf(values, raw);
  return value === undefined ? undefined : [value];
}
