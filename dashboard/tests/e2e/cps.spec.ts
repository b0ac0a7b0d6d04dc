/** CPS/IoT: fleet KPIs and table with filters, device detail (telemetry chart, attestations), actions by mode, runtime states. */
import type { Page } from "@playwright/test";
import {
  ATTESTATIONS, BADGE, CONDUIT, CORRELATION, DEVICE, DEVICE_DETAIL, FAILED_DEVICE, OT_ZONE, PENDING_DEVICE, SUMMARY, TELEMETRY, ZONE,
} from "./support/cps-fixtures";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ENGINEER = { username: "ot", role: "operator", permissions: ["cps:read", "cps:write", "cps:attest", "cps:revoke", "alerts:read"] } satisfies MockUser;
const EMPTY_SUMMARY = { total: 0, trusted: 0, health: { online: 0, stale: 0, offline: 0 }, attestation: {}, average_risk: 0 };

async function mockFleet(page: Page, devices: unknown[], summary: unknown = SUMMARY): Promise<void> {
  await mockJson(page, "**/api/v1/cps/fleet/summary", summary);
  await mockJson(page, "**/api/v1/cps/devices?*", pageOf(devices));
}

async function mockDevice(page: Page): Promise<void> {
  await mockJson(page, `**/api/v1/cps/devices/${DEVICE.device_id}`, DEVICE_DETAIL);
  await mockJson(page, `**/api/v1/cps/devices/${DEVICE.device_id}/telemetry?*`, TELEMETRY);
  await mockJson(page, "**/api/v1/cps/correlations?*", pageOf([CORRELATION]));
}

/** Records the query string of every list read, to check the filters reach the API. */
function deviceQueries(page: Page): URLSearchParams[] {
  const seen: URLSearchParams[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname === "/api/v1/cps/devices") seen.push(url.searchParams);
  });
  return seen;
}

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ENGINEER });
});

test("fleet KPIs and device table; filters are sent to the API", async ({ page }) => {
  await mockMode(page, "real");
  await mockFleet(page, [DEVICE, FAILED_DEVICE, PENDING_DEVICE]);
  const seen = deviceQueries(page);
  await page.goto("/cps");
  await expect(page.getByTestId("cps-kpi")).toHaveCount(8);
  await expect(page.getByTestId("fleet-summary")).toContainText("Avg risk44.0");
  const rows = page.getByTestId("device-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText("plc-gw-07");
  await expect(rows.nth(1)).toContainText("esp32s3");
  await expect(rows.nth(1).getByTestId("device-attestation")).toHaveText("failed");
  await expect(rows.nth(1).getByTestId("risk-bar")).toHaveAttribute("data-risk", "80");
  await expect(rows.nth(2).getByTestId("device-health")).toHaveText("offline");
  await snap(page, "mocked-cps");

  await page.getByLabel("Health").selectOption("offline");
  await page.getByLabel("Attestation").selectOption("failed");
  await page.getByTestId("search-input").fill("gateway");
  await page.getByLabel("Zone").fill("dc1-ot");
  await page.getByRole("button", { name: "Search" }).click();
  await expect.poll(() => seen.at(-1)?.toString()).toContain("q=gateway");
  const last = seen.at(-1)!;
  expect(Object.fromEntries(last)).toMatchObject({ health: "offline", attestation_status: "failed", zone_id: "dc1-ot", skip: "0", limit: "50" });
  await expect(page).toHaveURL(/health=offline/);
});

test("a /ws/cps message refreshes the fleet without waiting for the poll", async ({ page }) => {
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/cps/fleet/summary", SUMMARY);
  let health = "online";
  await page.route("**/api/v1/cps/devices?*", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf([{ ...DEVICE, health }])) }));
  let push: (message: string) => void = () => undefined;
  await page.routeWebSocket("**/api/v1/ws/cps", (ws) => { push = (m) => ws.send(m); });
  await page.goto("/cps");
  const pill = page.getByTestId("device-row").getByTestId("device-health");
  await expect(pill).toHaveText("online");
  health = "stale";
  await expect.poll(() => { push(JSON.stringify({ event: "status", device_id: DEVICE.device_id, health: "stale" })); return pill.textContent(); },
    { timeout: 5_000 }).toBe("stale");
});

test("device detail: telemetry charts, attestation history, correlations; attest posts in dry_run", async ({ page }) => {
  await mockMode(page, "dry_run");
  await mockDevice(page);
  let attested = false;
  await page.route(`**/api/v1/cps/devices/${DEVICE.device_id}/attest`, (route) => {
    attested = route.request().method() === "POST";
    const body = { device_id: DEVICE.device_id, nonce: "c0ffee00c0ffee00c0ffee00c0ffee00", expires_at: new Date(Date.now() + 60_000).toISOString(), delivered: true };
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  await expect(page.locator("#page-title")).toHaveText(DEVICE.name);
  const charts = page.getByTestId("telemetry-chart");
  await expect(charts).toHaveCount(2);
  await expect(charts.first()).toHaveAttribute("data-metric", "temperature");
  await expect(charts.first().locator("svg path.recharts-line-curve")).toHaveAttribute("d", /^M/);
  const history = page.getByTestId("attestation-row");
  await expect(history).toHaveCount(ATTESTATIONS.length);
  await expect(history.nth(1)).toContainText("FIRMWARE_MISMATCH");
  await expect(page.getByTestId("correlation-row")).toContainText("PHYSICAL_TAMPER");
  await snap(page, "mocked-cps-device");

  // Attestation is a pipeline write: allowed in dry_run. Revoke and commands are not.
  await expect(page.getByTestId("revoke-device")).toBeDisabled();
  await expect(page.getByTestId("send-command")).toBeDisabled();
  await expect(page.getByTestId("device-actions").getByTestId("readonly-reason").last()).toHaveAttribute("title", /real mode/);
  await page.getByTestId("attest-device").click();
  await expect(page.getByTestId("action-result")).toContainText("c0ffee00c0ffee00c0ffee00c0ffee00");
  expect(attested).toBe(true);
});

/** Answers POSTs/PATCHes on one device path and records their bodies. */
async function recordWrites(page: Page, path: string, reply: unknown): Promise<unknown[]> {
  const bodies: unknown[] = [];
  await page.route(`**/api/v1/cps/devices/${DEVICE.device_id}${path}`, (route) => {
    if (route.request().method() === "GET") return route.fallback();
    bodies.push(route.request().postDataJSON());
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(reply) });
  });
  return bodies;
}

test("real mode: a command is sent, an edit sends only the changed fields", async ({ page }) => {
  await mockMode(page, "real");
  await mockDevice(page);
  const commands = await recordWrites(page, "/command", { device_id: DEVICE.device_id, command: "lockdown", delivered: true, topic: "aurora/access/door-ctl-01/command" });
  const edits = await recordWrites(page, "", DEVICE);
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  await page.getByLabel("Command").selectOption("lockdown");
  await page.getByTestId("send-command").click();
  await expect(page.getByTestId("action-result")).toContainText("Command lockdown published on aurora/access/door-ctl-01/command");
  expect(commands).toEqual([{ command: "lockdown" }]);

  await page.getByTestId("edit-device").click();
  await page.getByTestId("edit-form").getByLabel("Location").fill("DC1 / cage 4");
  await page.getByTestId("edit-form").getByLabel("Zone").fill("");
  await page.getByTestId("edit-save").click();
  await expect(page.getByTestId("edit-form")).toHaveCount(0);
  expect(edits).toEqual([{ location: "DC1 / cage 4", zone_id: null }]);
});

test("real mode: revoke needs a confirmation", async ({ page }) => {
  await mockMode(page, "real");
  await mockDevice(page);
  const revokes = await recordWrites(page, "/revoke", { ...DEVICE, attestation_status: "revoked", trusted: false });
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  await page.getByTestId("revoke-device").click();
  expect(revokes).toEqual([]);
  await page.getByTestId("revoke-confirm").click();
  await expect(page.getByTestId("action-result")).toContainText("Device revoked");
  expect(revokes).toHaveLength(1);
});

test("an untrusted device gets no commands; a viewer sees no actions", async ({ page }) => {
  await mockMode(page, "real");
  await mockDevice(page);
  await mockJson(page, `**/api/v1/cps/devices/${DEVICE.device_id}`, { ...DEVICE_DETAIL, attestation_status: "failed", trusted: false });
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  await expect(page.getByTestId("send-command")).toBeDisabled();
  await expect(page.getByTestId("device-actions").getByTestId("readonly-reason")).toHaveAttribute("title", "Commands go only to verified (trusted) devices");
  await expect(page.getByTestId("attest-device")).toBeEnabled();

  await mockSession(page, { user: { username: "v", role: "viewer", permissions: ["cps:read"] } });
  await page.reload();
  await expect(page.getByTestId("attestation-row")).toHaveCount(ATTESTATIONS.length);
  await expect(page.getByTestId("device-actions").getByRole("button")).toHaveCount(0);
  await expect(page.getByTestId("edit-device")).toHaveCount(0);
});

test("zones and conduits: isolate is disabled with its reason in dry_run; in real it files an approval", async ({ page }) => {
  await mockMode(page, "dry_run");
  await mockJson(page, "**/api/v1/cps/fleet/summary", SUMMARY);
  await mockJson(page, "**/api/v1/cps/zones?*", pageOf([ZONE, OT_ZONE]));
  await mockJson(page, "**/api/v1/cps/conduits?*", pageOf([CONDUIT]));
  await page.goto("/cps?tab=zones");
  await expect(page.getByTestId("zone-row")).toHaveCount(2);
  const conduit = page.getByTestId("conduit-row");
  await expect(conduit).toContainText("dc1-restricted → dc1-ot");
  await expect(conduit.getByTestId("isolate-conduit")).toBeDisabled();
  await expect(conduit.getByTestId("readonly-reason")).toHaveAttribute("title", "Dry run — actions are previews — conduit isolation runs only in real mode");

  await mockMode(page, "real");
  let sent: { reason?: string } | null = null;
  await page.route(`**/api/v1/cps/conduits/${CONDUIT.id}/isolate`, (route) => {
    sent = route.request().postDataJSON();
    const approval = { id: "b1c2d3e4-0000-4000-8000-000000000009", action_type: "isolate_conduit", status: "pending", risk_level: "high", target: `conduit:${CONDUIT.name}` };
    return route.fulfill({ status: 202, contentType: "application/json", body: JSON.stringify(approval) });
  });
  await page.reload();
  await conduit.getByTestId("isolate-conduit").click();
  await conduit.getByTestId("isolate-reason").fill("worm spreading from IT");
  await conduit.getByTestId("isolate-confirm").click();
  await expect(conduit.getByTestId("isolate-requested")).toHaveAttribute("href", "/approvals");
  expect(sent).toEqual({ reason: "worm spreading from IT" });
  await expect(conduit.getByTestId("conduit-status")).toHaveText("open");
});

test("badges tab lists the allow-list", async ({ page }) => {
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/cps/fleet/summary", SUMMARY);
  await mockJson(page, "**/api/v1/cps/badges?*", pageOf([BADGE]));
  await page.goto("/cps?tab=badges");
  await expect(page.getByTestId("badge-row")).toContainText("B-1042");
  await expect(page.getByTestId("badge-row")).toContainText("enabled");
});

test("empty fleet: 'No devices registered', register stays enabled and posts", async ({ page }) => {
  await mockMode(page, "real");
  await mockFleet(page, [], EMPTY_SUMMARY);
  let posted: unknown = null;
  await page.route("**/api/v1/cps/devices", (route) => {
    posted = route.request().postDataJSON();
    return route.fulfill({ status: 201, contentType: "application/json", body: JSON.stringify(DEVICE) });
  });
  await mockDevice(page);
  await page.goto("/cps");
  await expect(page.getByTestId("empty-state")).toHaveText("No devices registered");
  await page.getByTestId("register-device").click();
  const form = page.getByTestId("register-form");
  await form.getByLabel("Device ID").fill(DEVICE.device_id);
  await form.getByLabel("Name").fill(DEVICE.name);
  await form.getByLabel("Device type").fill(DEVICE.device_type);
  await form.getByLabel("Board family").selectOption("nrf52840");
  await page.getByTestId("register-submit").click();
  await expect(page).toHaveURL(new RegExp(`/cps/devices/${DEVICE.device_id}$`));
  expect(posted).toEqual({ device_id: DEVICE.device_id, name: DEVICE.name, device_type: DEVICE.device_type, firmware_stack: "zephyr", board_family: "nrf52840" });
});

test("503: unavailable banner and queue message, no empty state, controls disabled", async ({ page }) => {
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/cps/fleet/summary", UNAVAILABLE, 503);
  await mockJson(page, "**/api/v1/cps/devices?*", UNAVAILABLE, 503);
  await page.goto("/cps");
  await expect(page.getByTestId("runtime-banner")).toHaveText("Live data unavailable — the database is not reachable (mode: real)");
  await expect(page.getByTestId("runtime-banner")).toHaveAttribute("data-read-source", "unavailable");
  await expect(page.getByTestId("data-unavailable")).toContainText("Live device fleet unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("fleet-summary")).toHaveCount(0);
  await expect(page.getByTestId("search-input")).toBeDisabled();
  await expect(page.getByTestId("register-device")).toBeDisabled();
  await expect(page.getByTestId("retry-button")).toBeVisible();
  await expect(page.getByTestId("mode-settings-link")).toHaveCount(0);
});

test("firmware trust shows its grounds: no signed bundle means unknown, and a quarantined device can be approved", async ({ page }) => {
  await mockMode(page, "real");
  await mockDevice(page);
  const reason = "no signed firmware bundle is registered for this device type and version, so there is nothing to compare the reported hash against";
  await mockJson(page, `**/api/v1/cps/devices/${DEVICE.device_id}`, {
    ...DEVICE_DETAIL, attestation_status: "unknown", trusted: false, firmware_state: "unknown", firmware_reason: reason, quarantined: true,
  });
  const approvals = await recordWrites(page, "/approve", { ...DEVICE, quarantined: false });
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  await expect(page.getByTestId("firmware-trust")).toHaveAttribute("data-state", "unknown");
  await expect(page.getByTestId("firmware-state")).toHaveText("firmware unknown");
  await expect(page.getByTestId("firmware-reason")).toHaveText(reason);
  await expect(page.getByTestId("device-facts")).not.toContainText("verified");
  await expect(page.getByTestId("device-quarantined")).toBeVisible();
  await page.getByTestId("approve-device").click();
  await expect(page.getByTestId("action-result")).toContainText("Device approved");
  expect(approvals).toHaveLength(1);
});

test("a minute of 1 msg/s telemetry gets a time axis whose labels never repeat", async ({ page }) => {
  await mockMode(page, "real");
  await mockDevice(page);
  const now = Date.now();
  const items = Array.from({ length: 60 }, (_, i) => ({
    metric: "temperature", unit: "°C", value: 21 + (i % 5) / 10, timestamp: new Date(now - i * 1000).toISOString(),
  }));
  await mockJson(page, `**/api/v1/cps/devices/${DEVICE.device_id}/telemetry?*`, { device_id: DEVICE.device_id, items, total: items.length });
  await page.goto(`/cps/devices/${DEVICE.device_id}`);
  // Recharts 3 renders tick labels in their own layer, outside the axis group: the time labels are
  // the tick values that read as a clock time (the y axis ticks are plain numbers).
  const labels = page.getByTestId("telemetry-chart").locator(".recharts-cartesian-axis-tick-value").filter({ hasText: /\d:\d{2}/ });
  await expect(labels.first()).toBeVisible();
  const texts = await labels.allTextContents();
  expect(texts.length).toBeGreaterThan(1);
  expect(new Set(texts).size).toBe(texts.length);
  expect(texts.every((t) => /\d{1,2}:\d{2}:\d{2}/.test(t))).toBe(true); // seconds shown for a one-minute span
});
