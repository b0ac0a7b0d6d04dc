/** Real mode, database up, nothing stored: empty states, no banner, controls enabled. */
import { expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ADMIN = { username: "root", role: "admin", permissions: ["*"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ADMIN });
  await mockMode(page, "real");
});

test("alerts: empty is not unavailable", async ({ page }) => {
  await mockJson(page, "**/api/v1/alerts?*", pageOf([]));
  await page.goto("/alerts");
  await expect(page.getByTestId("empty-state")).toHaveText("No alerts match these filters");
  await expect(page.getByTestId("data-unavailable")).toHaveCount(0);
  await expect(page.getByTestId("runtime-banner")).toHaveCount(0);
  await expect(page.getByTestId("search-input")).toBeEnabled();
});

test("cases: 'No cases yet' and New case stays available", async ({ page }) => {
  await mockJson(page, "**/api/v1/cases?*", pageOf([]));
  await page.goto("/cases");
  await expect(page.getByTestId("empty-state")).toHaveText("No cases yet");
  await expect(page.getByTestId("new-case")).toBeEnabled();
});

test("overview: a quiet day", async ({ page }) => {
  const zero = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const trend = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(Date.now() - i * 3600_000).toISOString(), counts: zero }));
  await mockJson(page, "**/api/v1/dashboard/stats", {
    open_alerts: zero, open_alerts_total: 0, open_cases: 0, trend, recent_alerts: [],
    cps_devices: null, top_network_attacks: [], unavailable_sections: ["cps_devices", "top_network_attacks"], data_source: "database",
  });
  await mockJson(page, "**/api/v1/agents", { items: [], total: 0, llm_configured: false });
  await page.goto("/");
  await expect(page.getByTestId("empty-state")).toHaveText("No alert activity in the last 24 hours");
  await expect(page.getByTestId("agent-fleet")).toContainText("Agents are not configured");
  await snap(page, "mocked-overview-empty");
});

test("overview: an import of old logs says where its activity is", async ({ page }) => {
  const zero = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const trend = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(Date.now() - i * 3600_000).toISOString(), counts: zero }));
  const seen = "2019-07-19T14:47:40Z";
  const alert = { id: "a1", title: "Shadow Copy Deletion", severity: "critical", status: "new", source: "windows",
    first_seen_at: seen, last_seen_at: seen, created_at: new Date().toISOString() };
  await mockJson(page, "**/api/v1/dashboard/stats", {
    open_alerts: { ...zero, critical: 1 }, open_alerts_total: 1, open_cases: 1, trend, recent_alerts: [alert],
    cps_devices: null, top_network_attacks: [], unavailable_sections: ["cps_devices", "top_network_attacks"], data_source: "database",
  });
  await mockJson(page, "**/api/v1/agents", { items: [], total: 0, llm_configured: false });
  await page.goto("/");
  const day = new Date(seen).toLocaleDateString("en-US", { year: "2-digit", month: "numeric", day: "numeric" });
  await expect(page.getByTestId("trend-latest")).toContainText(`latest alert activity ${day}`);
  await expect(page.getByTestId("recent-alerts")).toContainText(day);
});

test("detections: 'No rules loaded'", async ({ page }) => {
  await mockJson(page, "**/api/v1/detections/rules?*", pageOf([]));
  await page.goto("/detections");
  await expect(page.getByTestId("empty-state")).toHaveText("No rules loaded");
});

test("siem: 'No events in this range'", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", pageOf([]));
  await page.goto("/siem");
  await expect(page.getByTestId("empty-state")).toHaveText("No events in this range");
});
