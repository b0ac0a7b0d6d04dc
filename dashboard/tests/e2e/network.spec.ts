/** Network Command Center: attack queue with filters, focused evidence, actions by mode, mesh without the DB. */
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = {
  username: "net", role: "analyst",
  permissions: ["alerts:read", "alerts:write", "cases:read", "cases:write", "agents:read", "agents:dispatch", "approvals:read"],
} satisfies MockUser;
const NOW = "2026-11-24T21:00:00Z";
const ATTACK = {
  id: "6b3c1f2e-1111-4c6d-9a51-0d2b6f0c0a01", title: "C2 beacon 10.0.0.23 → 203.0.113.50", category: "c2_beacon",
  severity: "high", confidence: 0.8425, src_ip: "10.0.0.23", dst_ip: "203.0.113.50",
  telemetry_families: ["ids", "pcap", "dns", "flow"], alert_ids: ["a1", "a2", "a3", "a4"], mitre_techniques: ["T1071"],
  status: "triage", case_id: null, first_seen: NOW, last_seen: NOW, created_at: NOW, updated_at: NOW,
};
const RECON = {
  ...ATTACK, id: "6b3c1f2e-2222-4c6d-9a51-0d2b6f0c0a02", title: "Reconnaissance 10.0.0.40 → 10.0.0.9", category: "recon",
  severity: "medium", confidence: 0.25, src_ip: "10.0.0.40", dst_ip: "10.0.0.9", telemetry_families: ["flow"], alert_ids: ["a5"],
  mitre_techniques: ["T1046"],
};
const ALERT = {
  id: "a1", title: "ET MALWARE Example C2 Beacon", severity: "high", status: "new", source: "suricata", affected_assets: [],
  iocs: ["10.0.0.23", "203.0.113.50"], mitre_techniques: ["T1071"], occurrence_count: 1, first_seen_at: NOW, last_seen_at: NOW,
  metadata: {}, created_at: NOW,
};
const DETAIL = {
  ...ATTACK, alerts: [ALERT],
  techniques: [{ id: "T1071", name: "Application Layer Protocol", tactics: ["command-and-control"], url: null }],
  findings: ["4 alert(s) from dns, flow, ids, pcap telemetry; confidence 0.84", "Techniques: T1071 (command-and-control)"],
  investigations: [],
};
const MESH = {
  mode: "embedded",
  nodes: [
    { name: "network_security", url: "embedded://network_security", mode: "embedded", reachable: true },
    { name: "threat_hunter", url: "embedded://threat_hunter", mode: "embedded", reachable: false },
  ],
};
const INVESTIGATION = {
  id: "inv-1", task_id: "t1", agent: "network_security", prompt: "Investigate", priority: 5, requested_by: "net", alert_id: "a1",
  case_id: null, status: "completed", result: { verdict: "malicious" }, confidence: 0.7, error: null, backend: "offline",
  created_at: NOW, started_at: NOW, completed_at: NOW,
};

const APPROVAL = {
  id: "ap1", case_id: null, execution_id: null, step_name: null, investigation_id: null, action_type: "block_ip",
  action_params: { ip: "203.0.113.50" }, target: "203.0.113.50", justification: "C2 beacon", context: {}, requested_by: "agent:network_security",
  risk_level: "critical", escalated: false, status: "pending", ttl_seconds: 1800, expires_at: NOW, decided_by: null, decided_at: null,
  decision_comment: null, result: null, created_at: NOW,
};

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/agents/mesh", MESH);
  await mockJson(page, "**/api/v1/approvals?*", pageOf([APPROVAL]));
});

test("queue with KPIs and filters, focused evidence, open case and dispatch", async ({ page }) => {
  const listed: string[] = [];
  await page.route("**/api/v1/network/attacks?*", (route) => {
    const url = new URL(route.request().url());
    listed.push(url.search);
    const items = url.searchParams.get("category") === "recon" ? [RECON] : [ATTACK, RECON];
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf(items)) });
  });
  await mockJson(page, `**/api/v1/network/attacks/${ATTACK.id}`, DETAIL);
  await mockJson(page, `**/api/v1/network/attacks/${RECON.id}`, { ...DETAIL, ...RECON, alerts: [], findings: ["1 alert(s) from flow telemetry; confidence 0.25"] });
  let caseBody: unknown = null;
  await page.route(`**/api/v1/network/attacks/${ATTACK.id}/case`, (route) => {
    caseBody = route.request().method();
    return route.fulfill({ status: 201, contentType: "application/json", body: JSON.stringify({ id: "c1", title: ATTACK.title }) });
  });
  let dispatched = false;
  await page.route(`**/api/v1/network/attacks/${ATTACK.id}/dispatch`, (route) => {
    dispatched = true;
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(INVESTIGATION) });
  });
  await page.goto("/network");
  await expect(page.getByTestId("attack-row")).toHaveCount(2);
  await expect(page.getByTestId("network-kpis")).toContainText("84%");
  await expect(page.getByTestId("attack-confidence")).toHaveText("84%");
  await expect(page.getByTestId("attack-findings")).toContainText("4 alert(s) from dns, flow, ids, pcap telemetry");
  await expect(page.getByTestId("attack-techniques")).toContainText("command-and-control");
  await expect(page.getByTestId("attack-alerts")).toContainText("ET MALWARE Example C2 Beacon");
  await expect(page.getByTestId("mesh-node")).toHaveCount(2);
  await expect(page.getByTestId("critical-approval")).toContainText("block_ip");
  await snap(page, "mocked-network");

  await page.getByTestId("open-attack-case").click();
  await expect.poll(() => caseBody).toBe("POST");
  await page.getByTestId("dispatch-attack").click();
  await expect.poll(() => dispatched).toBe(true);

  await page.getByTestId("filter-category").selectOption("recon");
  await expect(page.getByTestId("attack-row")).toHaveCount(1);
  await expect(page.getByTestId("attack-flow")).toHaveText("10.0.0.40 → 10.0.0.9");
  expect(listed.some((q) => q.includes("category=recon"))).toBe(true);
});

test("an attack already in a case links to it", async ({ page }) => {
  await mockJson(page, "**/api/v1/network/attacks?*", pageOf([{ ...ATTACK, status: "case", case_id: "c9" }]));
  await mockJson(page, `**/api/v1/network/attacks/${ATTACK.id}`, { ...DETAIL, status: "case", case_id: "c9", investigations: [INVESTIGATION] });
  await page.goto(`/network?attack=${ATTACK.id}`);
  await expect(page.getByTestId("attack-case-link")).toHaveAttribute("href", "/cases/c9");
  await expect(page.getByTestId("open-attack-case")).toHaveCount(0);
  await expect(page.getByTestId("attack-dispatches")).toContainText("network_security");
});

test("empty queue, dry_run gating, and the mesh survives an unavailable database", async ({ page }) => {
  await mockJson(page, "**/api/v1/network/attacks?*", pageOf([]));
  await page.goto("/network");
  await expect(page.getByTestId("empty-state")).toHaveText("No correlated attacks");
  await expect(page.getByTestId("agent-mesh")).toBeVisible();

  await mockMode(page, "dry_run");
  await mockJson(page, "**/api/v1/network/attacks?*", pageOf([ATTACK]));
  await mockJson(page, `**/api/v1/network/attacks/${ATTACK.id}`, DETAIL);
  await page.reload();
  await expect(page.getByTestId("open-attack-case")).toBeDisabled(); // operator write: real mode only
  await expect(page.getByTestId("dispatch-attack")).toBeEnabled(); // pipeline write: allowed in dry_run

  await mockMode(page, "dummy");
  await page.reload();
  await expect(page.getByTestId("dispatch-attack")).toBeDisabled();

  await mockMode(page, "real", false);
  await mockJson(page, "**/api/v1/network/attacks?*", UNAVAILABLE, 503);
  await page.reload();
  await expect(page.getByTestId("data-unavailable")).toContainText("Attack queue unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("filter-severity")).toBeDisabled();
  await expect(page.getByTestId("mesh-node")).toHaveCount(2);
  await expect(page.getByTestId("critical-approvals")).toHaveCount(0);
  await snap(page, "mocked-network-unavailable");
});
