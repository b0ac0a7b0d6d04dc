/** The SIEM results table on real-world messages: one long message must not widen the page. */
import { expect, mockJson, mockMode, mockSession, page as pageOf, test, type MockUser } from "./support/mockApi";

const ADMIN: MockUser = { username: "root", role: "admin", permissions: ["*"] };
const LONG = "C:\\Windows\\System32\\svchost.exe -k netsvcs " + "A".repeat(5000);

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ADMIN });
  await mockMode(page, "real");
});

test("a 5,000-character message is truncated in its cell, not spread across the page", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", pageOf([{
    id: "6f7c1a52-1d1e-4f5e-9f10-000000000001", timestamp: "2019-03-17T19:09:41Z", received_at: "2026-12-06T09:45:00Z",
    time_source: "record", severity: "info", source: "tutto_malseclogon.evtx", host: "MSEDGEWIN10",
    user_name: "MSEDGEWIN10\\IEUser", event_id: "4688", message: LONG, raw: null,
  }]));
  await page.goto("/siem");
  await expect(page.getByTestId("log-message")).toContainText("svchost.exe");
  const [scroll, viewport] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll).toBeLessThanOrEqual(viewport);
});

test("a total scaled from the newest days reads as about, one past the cap as at least", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", { ...pageOf([], 5_120), truncated: false, total_is_estimate: true });
  await page.goto("/siem?q=%22failed%20password%22&range=all");
  await expect(page.getByTestId("logs-total")).toHaveText("≈ 5,120 events");
  await mockJson(page, "**/api/v1/siem/logs?*", { ...pageOf([], 100_000), truncated: true, total_is_estimate: true });
  await page.goto("/siem?q=password&range=all");
  await expect(page.getByTestId("logs-total")).toHaveText("100,000+ events");
});

test("the histogram names its bucket size in the largest whole unit", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", pageOf([]));
  await mockJson(page, "**/api/v1/siem/histogram?*", {
    bucket_seconds: 86_400, buckets: [{ start: "2019-05-27T00:00:00Z", count: 3 }, { start: "2019-05-28T00:00:00Z", count: 0 }],
  });
  await page.goto("/siem?q=vssadmin&range=all");
  await expect(page.getByTestId("histogram-bucket")).toHaveText("1 day buckets"); // was "1440 min buckets"
});

test("facets counted over a sample say so", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", pageOf([]));
  await mockJson(page, "**/api/v1/siem/facets?*", {
    host: [{ value: "MSEDGEWIN10", count: 9_000 }], user_name: [], src_ip: [], event_id: [], process_executable: [], sampled: 10_000,
  });
  await page.goto("/siem?range=all");
  await expect(page.getByTestId("facet-host")).toContainText("MSEDGEWIN10");
  await expect(page.getByTestId("facets-sampled")).toHaveText("Top values in the newest 10,000 matches that name any of these");
});

test("an event time not read whole from the record is marked and explained", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/logs?*", pageOf([{
    id: "6f7c1a52-1d1e-4f5e-9f10-000000000002", timestamp: "2026-09-14T12:33:13Z", received_at: "2026-12-07T13:00:00Z",
    time_source: "year_assumed", severity: "info", source: "netlogon.log", host: null, user_name: null, event_id: null,
    message: "09/14 12:33:13 [SESSION] [3352] Domain01: NetrServerAuthenticate returns Success", raw: null,
  }]));
  await page.goto("/siem?range=all");
  const cell = page.getByTestId("log-row").locator("td").first();
  await expect(cell).toHaveAttribute("title", /the record has no year: year assumed/);
  await expect(cell).toHaveClass(/decoration-dotted/);
});

test("sources show when events last arrived beside the newest event's own time", async ({ page }) => {
  await mockJson(page, "**/api/v1/siem/sources?*", pageOf([{
    id: "6f7c1a52-1d1e-4f5e-9f10-000000000003", name: "DE_1102_security_log_cleared.evtx", kind: "import", format: "auto",
    path: null, enabled: true, passthrough_alerts: false, last_event_at: "2019-03-19T23:35:15Z",
    last_received_at: "2026-12-07T13:01:59Z", events_total: 112, parse_errors: 0, status: "healthy", eps: 0,
    events_today: 112, created_at: "2026-12-07T13:01:59Z", updated_at: "2026-12-07T13:01:59Z",
  }]));
  await page.goto("/siem?tab=sources");
  const row = page.getByTestId("sources-table").locator("tbody tr");
  await expect(row.locator("td").nth(1)).toHaveText("import");
  await expect(row.locator("td").nth(3)).toHaveText("healthy");
  await expect(page.getByTestId("sources-table").locator("th").nth(6)).toHaveText("Last received");
  await expect(row.locator("td").nth(6)).toContainText("/26");
  await expect(row.locator("td").nth(7)).toContainText("/19");
});
