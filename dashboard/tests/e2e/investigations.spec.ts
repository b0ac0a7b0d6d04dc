/** Investigations: list with filters, detail with cited evidence and step timeline, live steps, override. */
import type { Page, WebSocketRoute } from "@playwright/test";
import { EVENTS, INVESTIGATION, RUNNING, VERDICT_EVENT } from "./support/agent-fixtures";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = { username: "ana", role: "analyst", permissions: ["agents:read", "agents:dispatch", "alerts:read", "cases:read", "ws:agent_thoughts"] } satisfies MockUser;
const DETAIL = `**/api/v1/investigations/${INVESTIGATION.id}`;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "real");
});

/** The agent-thoughts socket, answered by the test instead of a server. */
async function mockThoughts(page: Page): Promise<() => Promise<WebSocketRoute>> {
  let connected: (ws: WebSocketRoute) => void;
  const socket = new Promise<WebSocketRoute>((resolve) => (connected = resolve));
  await page.routeWebSocket("**/api/v1/ws/agent-thoughts", (ws) => connected(ws));
  return () => socket;
}

test("list shows status, agent, backend, duration, confidence, verdict and links; filters go to the API", async ({ page }) => {
  const asked: string[] = [];
  await page.route("**/api/v1/investigations?*", (route) => {
    asked.push(new URL(route.request().url()).search);
    return route.fulfill({ json: pageOf([INVESTIGATION, RUNNING]) });
  });
  await mockThoughts(page);
  await page.goto("/investigations");
  const rows = page.getByTestId("investigation-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("review required");
  await expect(rows.first()).toContainText("offline");
  await expect(rows.first()).toContainText("54%");
  await expect(rows.first()).toContainText("suspicious");
  await expect(rows.first()).toContainText(/0\.8 s|800 ms/);
  await expect(rows.first().getByRole("link", { name: "alert", exact: true })).toHaveAttribute("href", /\/alerts\//);
  await expect(rows.nth(1).getByTestId("investigation-status")).toHaveText("running");
  await snap(page, "mocked-investigations");
  await page.getByTestId("status-filter").selectOption("failed");
  await expect.poll(() => asked.at(-1)).toContain("status=failed");
  await page.getByTestId("agent-filter").selectOption("threat_hunter");
  await expect.poll(() => asked.at(-1)).toContain("agent=threat_hunter");
});

test("detail: verdict, cited evidence, next steps, timeline; a live agent_step refetches the steps", async ({ page }) => {
  let settled = false;
  await mockJson(page, DETAIL, INVESTIGATION);
  await page.route(`${DETAIL}/events?*`, (route) =>
    route.fulfill({ json: pageOf(settled ? [...EVENTS, VERDICT_EVENT] : EVENTS) }));
  const socket = await mockThoughts(page);
  await page.goto(`/investigations/${INVESTIGATION.id}`);
  await expect(page.getByTestId("investigation-verdict")).toHaveText("suspicious");
  await expect(page.getByTestId("investigation-confidence")).toHaveText("54%");
  await expect(page.getByTestId("investigation-backend")).toHaveText("offline");
  await expect(page.getByTestId("finding")).toHaveCount(2);
  const citation = page.getByTestId("citation").first();
  await expect(citation).toHaveText("search_alerts#1 → step 3");
  await expect(citation).toHaveAttribute("href", "#event-3");
  await expect(page.getByTestId("next-steps")).toContainText("Confirm the group change");
  const steps = page.getByTestId("investigation-event");
  await expect(steps).toHaveCount(5);
  await expect(steps.nth(1)).toContainText("delegates to security_analyst");
  await expect(steps.nth(2)).toContainText("calls search_alerts");
  await expect(steps.nth(2)).toContainText(`"alert_id": "${INVESTIGATION.alert_id}"`);
  await expect(page.getByTestId("live-indicator")).toBeVisible();
  await snap(page, "mocked-investigation-detail");

  const ws = await socket();
  settled = true;
  ws.send(JSON.stringify({ agent: "orchestrator", action: "verdict", investigation_id: INVESTIGATION.id, seq: 6, event_type: "verdict", detail: VERDICT_EVENT.payload, timestamp: new Date().toISOString() }));
  await expect(steps).toHaveCount(6, { timeout: 5_000 }); // well before the 15 s poll
  await expect(page.getByTestId("event-verdict")).toHaveText("suspicious");
});

test("steps of another investigation do not refetch this one", async ({ page }) => {
  let calls = 0;
  await mockJson(page, DETAIL, INVESTIGATION);
  await page.route(`${DETAIL}/events?*`, (route) => {
    calls += 1;
    return route.fulfill({ json: pageOf(EVENTS) });
  });
  const socket = await mockThoughts(page);
  await page.goto(`/investigations/${INVESTIGATION.id}`);
  await expect(page.getByTestId("investigation-event")).toHaveCount(5);
  const before = calls;
  (await socket()).send(JSON.stringify({ investigation_id: RUNNING.id, seq: 9, event_type: "plan", agent: "threat_hunter", detail: {} }));
  await page.waitForTimeout(500);
  expect(calls).toBe(before);
});

test("override: read-only in dry_run, posts status and note in real", async ({ page }) => {
  await mockJson(page, `${DETAIL}/events?*`, pageOf(EVENTS));
  await mockJson(page, DETAIL, INVESTIGATION);
  await mockThoughts(page);
  await mockMode(page, "dry_run");
  await page.goto(`/investigations/${INVESTIGATION.id}`);
  await expect(page.getByTestId("runtime-banner")).toContainText("Dry run");
  await expect(page.getByTestId("override")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason")).toHaveAttribute("title", "Dry run — actions are previews");

  await mockMode(page, "real");
  let body: unknown = null;
  await page.route(`${DETAIL}/override`, (route) => {
    body = route.request().postDataJSON();
    return route.fulfill({ json: { ...INVESTIGATION, status: "completed" } });
  });
  await page.reload();
  await page.getByTestId("override").click();
  await page.getByTestId("override-note").fill("Owner confirmed the change");
  await page.getByTestId("override-submit").click();
  await expect.poll(() => body).toEqual({ status: "completed", note: "Owner confirmed the change" });
});

test("empty and unavailable", async ({ page }) => {
  await mockThoughts(page);
  await mockJson(page, "**/api/v1/investigations?*", pageOf([]));
  await page.goto("/investigations");
  await expect(page.getByTestId("empty-state")).toHaveText("No investigations dispatched");
  await expect(page.getByTestId("runtime-banner")).toHaveCount(0);

  await mockMode(page, "dry_run", false);
  await mockJson(page, "**/api/v1/investigations?*", UNAVAILABLE, 503);
  await page.reload();
  await expect(page.getByTestId("runtime-banner")).toHaveAttribute("data-read-source", "unavailable");
  await expect(page.getByTestId("data-unavailable")).toContainText("Investigations unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("status-filter")).toBeDisabled();
  await expect(page.getByTestId("retry-button")).toBeVisible();
});

test("alert detail lists its investigations and Investigate opens the new one", async ({ page }) => {
  const { ALERT_DETAIL } = await import("./support/fixtures");
  await mockSession(page, { user: { ...ANALYST, permissions: [...ANALYST.permissions, "alerts:investigate"] } });
  await mockJson(page, `**/api/v1/alerts/${ALERT_DETAIL.id}`, { ...ALERT_DETAIL, investigations: [INVESTIGATION] });
  let posted = 0;
  await page.route(`**/api/v1/alerts/${ALERT_DETAIL.id}/investigate`, (route) => {
    posted += 1;
    return route.fulfill({ status: 202, json: INVESTIGATION });
  });
  await mockJson(page, DETAIL, INVESTIGATION);
  await mockJson(page, `${DETAIL}/events?*`, pageOf(EVENTS));
  await mockThoughts(page);
  await page.goto(`/alerts/${ALERT_DETAIL.id}`);
  await page.getByRole("tab", { name: "investigation" }).click();
  const link = page.getByTestId("investigation-link");
  await expect(link).toHaveCount(1);
  await expect(link).toContainText("review required");
  await expect(link.getByRole("link")).toHaveAttribute("href", `/investigations/${INVESTIGATION.id}`);
  await page.getByTestId("investigate").click();
  await expect(page).toHaveURL(new RegExp(`/investigations/${INVESTIGATION.id}$`));
  expect(posted).toBe(1);
});
