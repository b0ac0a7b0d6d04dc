/** Network Analyzer: imported attack context, analyze → KPIs/findings/evidence/reasoning, follow-up, dummy simulate. */
import { expect, mockJson, mockMode, mockSession, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = {
  username: "net", role: "analyst",
  permissions: ["alerts:read", "siem:read", "iocs:read", "cases:read", "agents:read", "agents:dispatch"],
} satisfies MockUser;
const VIEWER = { username: "view", role: "viewer", permissions: ["alerts:read", "agents:read"] } satisfies MockUser;
const NOW = "2026-11-24T21:00:00Z";
const ATTACK_ID = "6b3c1f2e-1111-4c6d-9a51-0d2b6f0c0a01";
const IMPORTED = '(src_ip:"10.0.0.23" OR dst_ip:"10.0.0.23") AND (src_ip:"203.0.113.50" OR dst_ip:"203.0.113.50")';
const ATTACK = {
  id: ATTACK_ID, title: "C2 beacon 10.0.0.23 → 203.0.113.50", category: "c2_beacon", severity: "high", confidence: 0.5,
  src_ip: "10.0.0.23", dst_ip: "203.0.113.50", telemetry_families: ["ids"], alert_ids: ["a1"], mitre_techniques: ["T1071"],
  status: "triage", case_id: null, first_seen: NOW, last_seen: NOW, created_at: NOW, updated_at: NOW,
  alerts: [], techniques: [], findings: [], investigations: [],
};
const AGENT = {
  name: "network_security", display_name: "Network Security", port: 9005, enabled: true, status: "unconfigured",
  circuit_state: "closed", model: "offline", role: "Flows, DNS tunnelling, IDS triage, recon and exfiltration",
  tool_domains: ["network", "siem", "network_capture"], tools: ["search_alerts", "search_logs", "correlate_events", "mitre_map"],
  missing_tools: ["network", "network_capture"], queue_depth: 0, last_activity_at: NOW, investigations_24h: 3,
};
const log = (n: number, severity: string, dst: string, port: number, message: string) => ({
  id: `00000000-0000-4000-8000-00000000000${n}`, timestamp: NOW, received_at: NOW, log_source_id: null, source: "eve.json",
  format: "eve", product: "suricata", category: null, service: null, event_id: null, host: null, user_name: null,
  src_ip: "10.0.0.23", src_port: 49152 + n, dst_ip: dst, dst_port: port, severity, message, fields: {}, raw: null,
});
const IOC = (value: string, confidence: number) => ({
  id: `ioc-${value}`, type: "ip", value, source: "suricata", confidence, status: "active", tags: [], description: null,
  tlp: "amber", sightings: 1, first_seen: NOW, last_seen: NOW, origin_site: null, created_at: NOW, updated_at: NOW,
});
const INVESTIGATION = {
  id: "3a9e1f40-5b6c-4d7e-8f90-a1b2c3d4e5f6", task_id: "t1", agent: "network_security", prompt: "Read-only network analysis",
  priority: 5, requested_by: "net", alert_id: "a1", case_id: null, status: "review_required", confidence: 0.54, error: null,
  backend: "offline", created_at: NOW, started_at: NOW, completed_at: NOW,
  result: {
    summary: "Verdict suspicious (score 45/100) for ET MALWARE Example C2 Beacon: alert severity high (+25, search_alerts)",
    verdict: "suspicious", severity: "high", confidence: 0.54, backend: "offline", mitre_techniques: ["T1071"],
    findings: [{ hypothesis: null, evidence: "alert severity high [search_alerts#1]", confidence: 0.54 }],
    recommendations: ["Keep investigating 10.0.0.23, 203.0.113.50; gather host and network context"],
  },
};
const ANALYSIS = {
  query: IMPORTED, time_range: "24h", kpis: { flows: 1, critical: 0, high: 1, iocs: 2 },
  events: [log(1, "high", "203.0.113.50", 443, "TCP 10.0.0.23:49153 -> 203.0.113.50:443 ET MALWARE Example C2 Beacon")],
  iocs: [IOC("203.0.113.50", 0.5), IOC("10.0.0.23", 0.5)], prompt: "Read-only network analysis", alert_id: "a1",
  attack_id: ATTACK_ID, investigation: INVESTIGATION, preview: false, mode: "real", effects: [],
};

test.beforeEach(async ({ page }) => {
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/agents/network_security", AGENT);
  await mockJson(page, `**/api/v1/network/attacks/${ATTACK_ID}`, ATTACK);
});

test("imported attack → analyze: KPIs, findings, evidence, reasoning, follow-up", async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  const analyzed: unknown[] = [];
  await page.route("**/api/v1/network-analyzer/analyze", (route) => {
    analyzed.push(route.request().postDataJSON());
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(ANALYSIS) });
  });
  let followUp: Record<string, unknown> | null = null;
  await page.route("**/api/v1/orchestrator/dispatch", (route) => {
    followUp = route.request().postDataJSON();
    const body = { ...INVESTIGATION, id: "inv-follow", status: "completed" };
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto(`/network/analyzer?attack=${ATTACK_ID}`);
  await expect(page.getByTestId("empty-state")).toHaveText("Run an analysis");
  await expect(page.getByTestId("imported-context")).toContainText("C2 beacon 10.0.0.23 → 203.0.113.50");
  await expect(page.getByTestId("agent-card")).toHaveAttribute("data-agent", "network_security");
  await page.getByTestId("use-imported-query").click();
  await expect(page.getByTestId("analyzer-query")).toHaveValue(IMPORTED);
  await page.getByTestId("analyzer-range").selectOption("7d");
  await page.reload(); // query and range are in the URL: a reload (or a remount) keeps them
  await expect(page.getByTestId("analyzer-query")).toHaveValue(IMPORTED);
  await expect(page.getByTestId("analyzer-range")).toHaveValue("7d");
  await page.getByTestId("analyzer-note").fill("Block 203.0.113.50 now");
  await page.getByTestId("analyze-submit").click();

  await expect(page.getByTestId("kpi-critical")).toHaveText("0");
  await expect(page.getByTestId("kpi-high")).toHaveText("1");
  await expect(page.getByTestId("kpi-iocs")).toHaveText("2");
  await expect(page.getByTestId("kpi-flows")).toHaveText("1");
  expect(analyzed).toEqual([
    { query: IMPORTED, time_range: "7d", context: { attack_id: ATTACK_ID, note: "Block 203.0.113.50 now" } },
  ]);
  await expect(page.getByTestId("finding")).toContainText("alert severity high");
  await expect(page.getByTestId("investigation-verdict")).toHaveText("suspicious");
  await expect(page.getByTestId("analyzer-event")).toHaveCount(1);
  await expect(page.getByTestId("analyzer-iocs")).toContainText("203.0.113.50");
  await expect(page.getByTestId("analyzer-investigation-link")).toHaveAttribute("href", `/investigations/${INVESTIGATION.id}`);
  await expect(page.getByText(/block ip|contain now/i)).toHaveCount(0); // never a blocking action
  await snap(page, "mocked-network-analyzer");

  await page.getByTestId("queue-follow-up").click();
  await expect(page.getByTestId("follow-up-receipt")).toHaveAttribute("href", "/investigations/inv-follow");
  expect(followUp).toMatchObject({ agent: "network_security", priority: 5 });
  expect(String(followUp!.prompt)).toContain(IMPORTED);
});

test("dummy mode: Analyze is blocked, Simulate previews without a run", async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "dummy");
  const previews: string[] = [];
  await page.route("**/api/v1/network-analyzer/analyze?preview=true", (route) => {
    previews.push(new URL(route.request().url()).search);
    const body = {
      ...ANALYSIS, query: "dst_port:443", attack_id: null, investigation: null, preview: true, mode: "dummy",
      effects: [{ action: "analyze", agent: "network_security", permissions: ["alerts:read", "siem:read"], simulated: true }],
    };
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto("/network/analyzer");
  await expect(page.getByTestId("imported-context")).toHaveCount(0);
  await page.getByTestId("analyzer-query").fill("dst_port:443");
  await expect(page.getByTestId("analyze-submit")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason").first()).toHaveAttribute("title", "Dummy mode — changes are blocked");
  await page.getByTestId("analyze-simulate").click();
  await expect(page.getByTestId("analyzer-simulated")).toBeVisible();
  await expect(page.getByTestId("kpi-flows")).toHaveText("1");
  await expect(page.getByTestId("analyzer-reasoning")).toContainText("alerts:read,siem:read");
  await expect(page.getByTestId("queue-follow-up")).toBeDisabled();
  expect(previews).toEqual(["?preview=true"]);
});

test("without agents:dispatch the page reads but cannot analyze", async ({ page }) => {
  await mockSession(page, { user: VIEWER });
  await page.goto("/network/analyzer");
  await expect(page.getByTestId("analyzer-no-permission")).toBeVisible();
  await expect(page.getByTestId("analyze-submit")).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toHaveText("Run an analysis");
});

test("the command center's focused attack opens in the analyzer", async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockJson(page, "**/api/v1/network/attacks?*", { items: [ATTACK], total: 1, skip: 0, limit: 50, data_source: "database" });
  await mockJson(page, "**/api/v1/agents/mesh", { mode: "embedded", nodes: [] });
  await page.goto("/network");
  await page.getByTestId("open-in-analyzer").click();
  await expect(page).toHaveURL(`/network/analyzer?attack=${ATTACK_ID}`);
  await expect(page.getByRole("heading", { name: "Network Analyzer" })).toBeVisible();
  await expect(page.getByTestId("imported-context")).toContainText("10.0.0.23 → 203.0.113.50");
});
