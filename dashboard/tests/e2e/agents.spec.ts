/** Agents page and the Overview's agent fleet panel with Quick Dispatch (spec §24.3 `/agents`, `/`). */
import type { Page } from "@playwright/test";
import { AGENTS, INVESTIGATION, LLM_AGENTS, NO_AGENT_READY } from "./support/agent-fixtures";
import { ALERT } from "./support/fixtures";
import { type ModeName, UNAVAILABLE, expect, mockJson, mockMode, mockSession, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = { username: "ana", role: "analyst", permissions: ["agents:read", "agents:dispatch", "dashboard:read"] } satisfies MockUser;
const VIEWER = { username: "vic", role: "viewer", permissions: ["agents:read", "dashboard:read"] } satisfies MockUser;

async function open(page: Page, path: string, { mode = "real" as ModeName, agents = AGENTS as unknown, user = ANALYST as MockUser } = {}) {
  await mockSession(page, { user });
  await mockMode(page, mode);
  await mockJson(page, "**/api/v1/agents", agents);
  await page.goto(path);
}

/** Records POST /orchestrator/dispatch bodies and answers with a finished offline investigation. */
async function captureDispatch(page: Page): Promise<unknown[]> {
  const bodies: unknown[] = [];
  await page.route("**/api/v1/orchestrator/dispatch", (route) => {
    bodies.push(route.request().postDataJSON());
    return route.fulfill({ status: 202, json: { ...INVESTIGATION, prompt: "Hunt", alert_id: null, case_id: null } });
  });
  return bodies;
}

const ATTACK = {
  id: "7e57a77a-0000-4000-8000-0000000000a1", title: "C2 beacon 10.0.0.23 → 203.0.113.50", category: "c2_beacon",
  severity: "high", confidence: 0.8425, src_ip: "10.0.0.23", dst_ip: "203.0.113.50", telemetry_families: ["ids", "flow", "dns", "other"],
  alert_ids: [], mitre_techniques: ["T1071.004"], status: "case", case_id: null, first_seen: new Date().toISOString(), last_seen: new Date().toISOString(),
};

function stats() {
  const zero = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const trend = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(Date.now() - (23 - i) * 3600_000).toISOString(), counts: i === 23 ? { ...zero, high: 1 } : zero }));
  return {
    open_alerts: { ...zero, high: 1 }, open_alerts_total: 1, open_cases: 2, trend, recent_alerts: [ALERT],
    cps_devices: { total: 4, trusted: 3, health: { online: 3, stale: 0, offline: 1 }, attestation: { verified: 3, failed: 1, pending: 0, unknown: 0 }, average_risk: 22.5 },
    top_network_attacks: [ATTACK], unavailable_sections: [], data_source: "database",
  };
}

test("fleet KPIs, offline backend said plainly, cards with circuit, model, queue and tools", async ({ page }) => {
  await open(page, "/agents");
  const kpi = (name: string) => page.locator(`[data-kpi="${name}"]`);
  await expect(kpi("total")).toContainText("3");
  await expect(kpi("online")).toContainText("0");
  await expect(kpi("online")).toContainText("2 ready on the offline analyst");
  await expect(kpi("disabled")).toContainText("1");
  await expect(kpi("tools")).toContainText("6");
  await expect(kpi("sites")).toContainText("1");
  await expect(page.getByTestId("agents-backend")).toContainText("offline analyst (no LLM configured)");
  await expect(page.getByTestId("agents-backend")).toContainText("Agents are not configured with an LLM");
  const analyst = page.locator('[data-agent="security_analyst"]');
  await expect(analyst.getByTestId("agent-status")).toHaveText("unconfigured");
  await expect(analyst.getByTestId("agent-circuit")).toHaveText("closed");
  await expect(analyst.getByTestId("agent-model")).toHaveText("offline");
  await expect(analyst.getByTestId("agent-queue")).toHaveText("1 pending");
  await analyst.getByTestId("agent-tools-toggle").click();
  await expect(analyst.getByTestId("agent-tools")).toContainText("search_logs");
  await expect(page.locator('[data-agent="malware_analyst"]').getByTestId("agent-dispatch")).toHaveCount(0);
  await snap(page, "mocked-agents");
});

test("an LLM fleet shows its model and online agents", async ({ page }) => {
  await open(page, "/agents", { agents: LLM_AGENTS });
  await expect(page.locator('[data-kpi="online"]')).toContainText("2");
  await expect(page.getByTestId("agents-backend")).toHaveAttribute("data-llm", "true");
  await expect(page.getByTestId("agents-backend")).toContainText("LLM (qwen2.5-32b)");
});

test("dispatch from an agent card posts the task and links the investigation", async ({ page }) => {
  const bodies = await captureDispatch(page);
  await open(page, "/agents");
  await page.locator('[data-agent="security_analyst"]').getByTestId("agent-dispatch").click();
  await expect(page.getByTestId("dispatch-agent")).toHaveValue("security_analyst");
  await page.getByTestId("dispatch-prompt").fill("Hunt for lateral movement from WIN-DC01");
  await page.getByTestId("dispatch-submit").click();
  await expect.poll(() => bodies).toEqual([{ agent: "security_analyst", prompt: "Hunt for lateral movement from WIN-DC01", priority: 5 }]);
  await expect(page.getByTestId("dispatch-receipt").getByRole("link")).toHaveAttribute("href", `/investigations/${INVESTIGATION.id}`);
});

test("dispatch runs in dry_run (a pipeline write) but is read-only in dummy", async ({ page }) => {
  const bodies = await captureDispatch(page);
  await open(page, "/agents", { mode: "dry_run" });
  await page.getByTestId("open-dispatch").click();
  await page.getByTestId("dispatch-prompt").fill("Summarise today's alerts");
  await expect(page.getByTestId("dispatch-form")).toContainText("Dry run: tools that act are simulated.");
  await page.getByTestId("dispatch-submit").click();
  await expect.poll(() => bodies.length).toBe(1);

  await mockMode(page, "dummy");
  await page.reload();
  await page.getByTestId("open-dispatch").click();
  await page.getByTestId("dispatch-prompt").fill("Summarise today's alerts");
  await expect(page.getByTestId("dispatch-submit")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason")).toHaveAttribute("title", "Dummy mode — changes are blocked");
});

test("no dispatch controls without agents:dispatch", async ({ page }) => {
  await open(page, "/agents", { user: VIEWER });
  await expect(page.getByTestId("agent-card")).toHaveCount(3);
  await expect(page.getByTestId("open-dispatch")).toHaveCount(0);
  await expect(page.getByTestId("agent-dispatch")).toHaveCount(0);
});

test("empty fleet and unavailable fleet", async ({ page }) => {
  await open(page, "/agents", { agents: { items: [], total: 0, llm_configured: false } });
  await expect(page.getByTestId("empty-state")).toHaveText("Agents are not configured");

  await mockMode(page, "real", false);
  await mockJson(page, "**/api/v1/agents", UNAVAILABLE, 503);
  await page.reload();
  await expect(page.getByTestId("data-unavailable")).toContainText("Agent fleet unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("open-dispatch")).toBeDisabled();
});

test("overview: CPS fleet numbers, agent fleet panel and a collapsed Quick Dispatch", async ({ page }) => {
  const bodies = await captureDispatch(page);
  await mockJson(page, "**/api/v1/dashboard/stats", stats());
  await open(page, "/");
  await expect(page.getByTestId("cps-fleet")).toContainText("4 (3 trusted)");
  await expect(page.getByTestId("cps-fleet")).toContainText("3 verified · 1 failed");
  const attack = page.getByTestId("top-attack");
  await expect(attack).toContainText("C2 beacon 10.0.0.23 → 203.0.113.50");
  await expect(attack).toContainText("84%");
  await expect(attack.getByRole("link")).toHaveAttribute("href", `/network?attack=${ATTACK.id}`);
  await expect(page.getByTestId("agent-fleet-summary")).toContainText("2 of 3 ready");
  await expect(page.getByTestId("dispatch-form")).toHaveCount(0); // collapsed
  await snap(page, "mocked-overview");
  await page.getByTestId("quick-dispatch").getByText("Quick Dispatch").click();
  await page.getByTestId("dispatch-prompt").fill("Triage this alert");
  await page.getByTestId("dispatch-alert_id").fill(` ${ALERT.id} `);
  await page.getByTestId("dispatch-submit").click();
  await expect.poll(() => bodies).toEqual([{ agent: "orchestrator", prompt: "Triage this alert", priority: 5, alert_id: ALERT.id }]);
  await expect(page.getByTestId("dispatch-receipt")).toContainText("review required");
});

test("overview: Quick Dispatch is disabled when no agent is online; dummy offers Simulate", async ({ page }) => {
  await mockJson(page, "**/api/v1/dashboard/stats", stats());
  await open(page, "/", { agents: NO_AGENT_READY });
  await page.getByTestId("quick-dispatch").getByText("Quick Dispatch").click();
  await expect(page.getByTestId("dispatch-blocked")).toHaveText("No agent is online");
  await expect(page.getByTestId("dispatch-submit")).toBeDisabled();

  await mockMode(page, "dummy");
  await mockJson(page, "**/api/v1/agents", AGENTS);
  await page.reload();
  await page.getByTestId("quick-dispatch").getByText("Quick Dispatch").click();
  await expect(page.getByTestId("dispatch-blocked")).toHaveText("Dummy mode — changes are blocked");
  let previewed: string | null = null;
  await page.route("**/api/v1/orchestrator/dispatch?*", (route) => {
    previewed = new URL(route.request().url()).searchParams.get("preview");
    const effect = { action: "dispatch", agent: "orchestrator", priority: 5, backend: "offline", simulated: true };
    return route.fulfill({ status: 202, json: { preview: true, mode: "dummy", effects: [effect] } });
  });
  await page.getByTestId("dispatch-prompt").fill("Summarise today's alerts");
  await page.getByTestId("dispatch-simulate").click();
  await expect(page.getByTestId("dispatch-simulated")).toContainText("SIMULATED");
  await expect(page.getByTestId("dispatch-simulated")).toContainText("Would dispatch to orchestrator");
  expect(previewed).toBe("true");
});
