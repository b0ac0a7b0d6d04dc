/** Agent fleet and investigation bodies as the API returns them with no LLM configured (offline analyst). */
import type { Schemas } from "./schema";
import { ALERT, CASE } from "./fixtures";

const now = new Date().toISOString();
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

const agent = (name: string, display_name: string, port: number, tools: string[], extra: Partial<Schemas["AgentStatusOut"]> = {}): Schemas["AgentStatusOut"] => ({
  name, display_name, port, enabled: true, status: "unconfigured", circuit_state: "closed", model: "offline",
  role: `${display_name} specialist`, tool_domains: ["siem"], tools, missing_tools: [], queue_depth: 0,
  last_activity_at: now, investigations_24h: 2, ...extra,
});

export const AGENTS = {
  llm_configured: false,
  total: 3,
  items: [
    agent("orchestrator", "Orchestrator", 9000, ["run_playbook", "handoff_security_analyst"], { tool_domains: ["soar"] }),
    agent("security_analyst", "Security Analyst", 9001, ["search_alerts", "mitre_map", "search_logs"], { queue_depth: 1 }),
    agent("malware_analyst", "Malware Analyst", 9003, ["yara_scan"], { enabled: false, status: "disabled", investigations_24h: 0, last_activity_at: null }),
  ],
} satisfies Schemas["AgentList"];

export const NO_AGENT_READY = {
  ...AGENTS,
  items: AGENTS.items.map((a) => ({ ...a, enabled: false, status: "disabled" })),
} satisfies Schemas["AgentList"];

export const LLM_AGENTS = {
  ...AGENTS,
  llm_configured: true,
  items: AGENTS.items.map((a) => (a.enabled ? { ...a, status: "online", model: "qwen2.5-32b" } : a)),
} satisfies Schemas["AgentList"];

export const INVESTIGATION = {
  id: "3a9e1f40-5b6c-4d7e-8f90-a1b2c3d4e5f6",
  task_id: "4c1d0e8f2a3b4c5d6e7f8091a2b3c4d5",
  agent: "orchestrator",
  prompt: "Investigate this alert: establish what happened, how bad it is, and what to do next.",
  priority: 5,
  requested_by: "ana",
  alert_id: ALERT.id,
  case_id: CASE.id,
  status: "review_required",
  confidence: 0.54,
  error: null,
  backend: "offline",
  created_at: ago(60),
  started_at: ago(60),
  completed_at: ago(59.2),
  result: {
    summary: "security_analyst: Verdict suspicious (score 45/100) for Member Added to Local Administrators",
    severity: "medium",
    confidence: 0.54,
    verdict: "suspicious",
    backend: "offline",
    mitre_techniques: ["T1098"],
    iocs: ["S-1-5-20"],
    recommendations: ["Confirm the group change with the domain admins"],
    findings: [
      { hypothesis: null, evidence: "security_analyst: alert severity high [search_alerts#1]", confidence: 0.54 },
      { hypothesis: null, evidence: "security_analyst: ATT&CK T1098 Account Manipulation [mitre_map#1]", confidence: 0.54 },
    ],
    proposed_actions: [],
    skipped_agents: [],
  },
} satisfies Schemas["InvestigationOut"];

export const RUNNING = {
  ...INVESTIGATION,
  id: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
  agent: "threat_hunter",
  prompt: "Hunt for lateral movement from WIN-DC01",
  status: "running",
  confidence: null,
  completed_at: null,
  result: null,
  backend: null,
  alert_id: null,
  case_id: null,
} satisfies Schemas["InvestigationOut"];

const event = (seq: number, event_type: string, payload: Record<string, unknown>): Schemas["InvestigationEventOut"] => ({ seq, event_type, payload, created_at: now });

export const EVENTS = [
  event(1, "agent_started", { agent: "orchestrator", task: "Investigate this alert", backend: "offline" }),
  event(2, "delegation", { agent: "orchestrator", to: "security_analyst", task: `Investigate alert ${ALERT.id}` }),
  event(3, "tool_call", { agent: "security_analyst", tool: "search_alerts", arguments: { alert_id: ALERT.id }, result: { status: "ok", alerts: [{ id: ALERT.id, severity: "high" }] } }),
  event(4, "tool_call", { agent: "security_analyst", tool: "mitre_map", arguments: { technique_id: "T1098" }, result: { status: "ok", technique: { id: "T1098", name: "Account Manipulation" } } }),
  event(5, "model_message", { agent: "security_analyst", content: '{"summary": "Verdict suspicious (score 45/100)"}' }),
] satisfies Schemas["InvestigationEventOut"][];

export const VERDICT_EVENT = event(6, "verdict", { agent: "orchestrator", verdict: "suspicious", confidence: 0.54, backend: "offline", skipped_agents: [] });
