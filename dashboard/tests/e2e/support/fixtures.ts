/** Realistic API bodies shared by the mocked specs. */
import type { Schemas } from "./schema";

const now = new Date().toISOString();

export const ALERT = {
  id: "5b0a8c1e-7c2f-4d7a-9a53-0c1c7f0f6a11",
  title: "Member Added to Local Administrators",
  description: "A user was added to the local Administrators group.",
  severity: "high",
  status: "new",
  source: "windows",
  affected_assets: ["host:WIN-DC01"],
  iocs: ["S-1-5-20"],
  mitre_techniques: ["T1098"],
  raw_log: '{"EventID": 4732, "TargetUserName": "Administrators"}',
  case_id: null,
  occurrence_count: 2,
  first_seen_at: now,
  last_seen_at: now,
  metadata: {},
  entities: {},
  observables: [],
  intel_matches: [],
  created_at: now,
  updated_at: now,
} satisfies Schemas["AlertOut"];

export const ALERT_DETAIL = {
  ...ALERT,
  typed_iocs: [],
  techniques: [{ id: "T1098", name: "Account Manipulation", tactics: ["persistence"], url: null }],
  case: null,
  investigations: [],
  data_source: "database",
} satisfies Schemas["AlertDetail"];

export const CASE = {
  id: "0f5e3c9a-1111-4b2b-8c3d-2e2f2a2b2c2d",
  title: "Privilege escalation on WIN-DC01",
  description: null,
  severity: "high",
  status: "in_progress",
  assigned_to: null,
  source: "alert_promotion",
  affected_assets: [],
  iocs: [],
  mitre_techniques: [],
  recommendations: [],
  cps_involved: false,
  created_at: now,
  updated_at: now,
} satisfies Schemas["CaseOut"];

export const CASE_DETAIL = {
  ...CASE,
  timeline: [
    { id: "a1", case_id: CASE.id, action: "created", actor: "admin", details: "Promoted from alert", data: {}, timestamp: now },
  ],
  alerts: [{ id: ALERT.id, title: ALERT.title, severity: "high", status: "escalated" }],
  approvals: [],
  executions: [],
  investigations: [],
  reports: [],
  similar_cases: [],
  data_source: "database",
} satisfies Schemas["CaseDetail"];

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

export const APPROVAL = {
  id: "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  case_id: CASE.id,
  execution_id: "e0e0e0e0-1111-4222-8333-944445555666",
  step_name: "isolate",
  investigation_id: null,
  action_type: "isolate_host",
  action_params: { host: ["MSEDGEWIN10"], reason: "Malware containment" },
  target: "MSEDGEWIN10",
  justification: "Step isolate of playbook malware-response",
  context: { alert_id: ALERT.id },
  requested_by: "playbook:malware-response",
  risk_level: "high",
  escalated: false,
  status: "pending",
  ttl_seconds: 1800,
  expires_at: inMinutes(25),
  decided_by: null,
  decided_at: null,
  decision_comment: null,
  result: null,
  created_at: now,
} satisfies Schemas["ApprovalOut"];

export const ESCALATED_APPROVAL = {
  ...APPROVAL,
  id: "8e2d3c4b-5f60-4b7c-9d8e-0f1a2b3c4d5e",
  action_type: "revoke_certificate",
  target: "CN=vpn-gw-01",
  risk_level: "critical",
  escalated: true,
  justification: "Step revoke of playbook compromised-cert",
} satisfies Schemas["ApprovalOut"];

const SIMULATED = (action: string, would: Record<string, unknown>) => ({ status: "simulated", action, would });

export const PLAYBOOK = {
  id: "354b5edd-0215-4246-9dea-3c10fa0252de",
  name: "malware-response",
  description: "Contain infected hosts after analyst approval, scan them, block C2 and report.",
  severity_filter: "high",
  enabled: true,
  requires_approval: false,
  mitre_techniques: ["T1204", "T1071"],
  definition: { name: "malware-response", steps: [{ name: "isolate" }, { name: "scan" }, { name: "report" }] },
  source_yaml: "name: malware-response\ndescription: Contain infected hosts\nseverity_filter: high\nenabled: true\nrequires_approval: false\nsteps:\n  - name: isolate\n    action: isolate_host\n",
  version: 1,
  created_by: "admin",
  created_at: now,
  updated_at: now,
} satisfies Schemas["PlaybookOut"];

const step = (name: string, action: string, status: string, output: unknown = null): Schemas["ExecutionOut"]["steps"][number] => ({
  name, action, action_class: "read", status, definition: {}, params: null, output, error: null,
  approval_id: null, started_at: now, finished_at: status === "completed" ? now : null, rollback: null,
});

export const EXECUTION = {
  id: APPROVAL.execution_id,
  playbook_id: PLAYBOOK.id,
  playbook_name: PLAYBOOK.name,
  playbook_version: 1,
  alert_id: ALERT.id,
  case_id: CASE.id,
  trigger: "manual",
  triggered_by: "admin",
  preview: false,
  status: "completed",
  parameters: {},
  steps: [
    step("isolate", "isolate_host", "completed", { targets: ["MSEDGEWIN10"], results: { MSEDGEWIN10: SIMULATED("isolate_host", { host: "MSEDGEWIN10" }) } }),
    step("scan", "run_scan", "skipped"),
    step("report", "notify", "completed", SIMULATED("notify", { channel: "soc" })),
  ],
  error: null,
  started_at: now,
  finished_at: now,
  created_at: now,
} satisfies Schemas["ExecutionOut"];

export const PLAYBOOK_PREVIEW = {
  preview: true,
  mode: "real",
  effects: [
    { step: "isolate", action: "isolate_host", action_class: "actuate", connector: "edr", simulated: true, would: "completed", requires_approval: true, risk_level: "high" },
    { step: "report", action: "notify", action_class: "write_internal", connector: "notify", simulated: true, would: "completed", requires_approval: false, risk_level: "low" },
  ],
} satisfies Schemas["Preview"];

export const REPORT = {
  id: "fa1aadeb-be1c-467f-ae18-531c3f15e8ba",
  case_id: CASE.id,
  report_type: "executive",
  title: "Executive report: Privilege escalation on WIN-DC01",
  generated_by: "admin",
  narrative_source: "template",
  created_at: now,
} satisfies Schemas["ReportOut"];

export const HOST = { name: "MSEDGEWIN10", kind: "host", last_seen: now, event_count: 41, alert_count: 3, open_alert_count: 2, risk: 62, top_techniques: ["T1098", "T1136"], service_account: false } satisfies Schemas["Entity"];
export const SYSTEM_USER = { name: "NT AUTHORITY\\SYSTEM", kind: "user", last_seen: now, event_count: 399, alert_count: 87, open_alert_count: 87, risk: 100, top_techniques: ["T1033"], service_account: true } satisfies Schemas["Entity"];
export const USER = { name: "IEUser", kind: "user", last_seen: now, event_count: 12, alert_count: 1, open_alert_count: 1, risk: 8, top_techniques: ["T1098"], service_account: false } satisfies Schemas["Entity"];

export const IOC = {
  id: "1c0ffee0-2222-4333-8444-955556666777",
  type: "ip",
  value: "185.220.101.4",
  source: "sigma",
  confidence: 0.8,
  status: "active",
  tags: ["tor-exit"],
  description: "Brute force source",
  tlp: "amber",
  sightings: 3,
  first_seen: now,
  last_seen: now,
  origin_site: null,
  created_at: now,
  updated_at: now,
} satisfies Schemas["IOCOut"];

export const IOC_DETAIL = {
  ...IOC,
  linked_alerts: [{ id: ALERT.id, title: ALERT.title, severity: "high", status: "new", created_at: now }],
  linked_alert_count: 1,
  data_source: "database",
} satisfies Schemas["IOCDetail"];
