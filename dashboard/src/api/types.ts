/** Shapes of the API, generated from its OpenAPI schema (`make dashboard-types`). */
import type { components } from "./schema";

type S = components["schemas"];

export type Alert = S["AlertOut"];
export type AlertDetail = S["AlertDetail"];
export type Case = S["CaseOut"];
export type CaseDetail = S["CaseDetail"];
export type TimelineEntry = S["TimelineEntryOut"];
export type Me = S["Me"];
export type Providers = S["ProvidersResponse"];
export type SystemMode = S["SystemMode"];
export type SystemStatus = S["SystemStatus"];
export type DashboardStats = S["DashboardStats"];
export type User = S["UserOut"];
export type ApiKey = S["ApiKeyInfo"];
export type ApiKeyCreated = S["ApiKeyCreated"];
export type AuditEntry = S["AuditEntry"];
export type Rule = S["RuleOut"];
export type RuleDetail = S["RuleDetail"];
export type RulesCreated = S["RulesCreated"];
export type RuleTestResult = S["RuleTestResult"];
export type PackOut = S["PackOut"];
export type PackReport = S["PackReportOut"];
export type RuleStats = S["RuleStatsOut"];
export type RuleException = S["ExceptionOut"];
export type SiemLog = S["SiemLogOut"];
export type SiemLogPage = S["LogPage"];
export type SiemHistogram = S["Histogram"];
export type SiemFacets = S["Facets"];
export type Hunt = S["HuntOut"];
export type LogSource = S["LogSourceOut"];
export type Preview = S["Preview"];
export type BulkResult = S["BulkResult"];
export type Severity = Alert["severity"];
export type Approval = S["ApprovalOut"];
export type Playbook = S["PlaybookOut"];
export type Execution = S["ExecutionOut"];
export type ValidationResult = S["ValidationResult"];
export type AutomationRule = S["AutomationRuleOut"];
export type Report = S["ReportOut"];
export type ReportDetail = S["ReportDetail"];
export type ReportPreview = S["ReportPreview"];
export type Entity = S["Entity"];
export type Ioc = S["IOCOut"];
export type IocDetail = S["IOCDetail"];
export type LookupResult = S["LookupResult"];
export type SimilarResult = S["SimilarResult"];
export type ShareReceipt = S["ShareReceipt"];
export type Agent = S["AgentStatusOut"];
export type AgentList = S["AgentList"];
export type Investigation = S["InvestigationOut"];
export type InvestigationEvent = S["InvestigationEventOut"];
export type DispatchRequest = S["DispatchRequest"];

export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
  data_source?: string;
}
export type IntelMatch = S["IntelMatch"];
export type IntelFeed = S["FeedOut"];
export type CoverageMatrix = S["CoverageMatrix"];
export type CoverageCell = S["CoverageCell"];
