/** Sites: the local site alone with "Federation disabled", peers and link health when federated. */
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, snap, test, type MockUser } from "./support/mockApi";

const OPERATOR = { username: "ops", role: "operator", permissions: ["sites:read", "alerts:read"] } satisfies MockUser;
const NOW = "2026-11-24T21:00:00Z";
const LOCAL = { site_id: "hq", name: "Head office", tier: "primary", is_local: true, agent_count: 13, last_heartbeat_at: NOW, status: "healthy" };
const BRANCH = { site_id: "branch", name: "Branch office", tier: "secondary", is_local: false, agent_count: 4, last_heartbeat_at: NOW, status: "healthy" };

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: OPERATOR });
  await mockMode(page, "real");
});

test("federation disabled shows only this site", async ({ page }) => {
  await mockJson(page, "**/api/v1/system/topology", { sites: [LOCAL], links: [], federation_enabled: false, local_site_id: "hq", data_source: "database" });
  await page.goto("/sites");
  await expect(page.getByTestId("site-row")).toHaveCount(1);
  await expect(page.getByTestId("site-row")).toContainText("Head office");
  await expect(page.getByTestId("site-row")).toContainText("this site");
  await expect(page.getByTestId("empty-state")).toContainText("Federation disabled");
  await expect(page.getByTestId("federation-state")).toHaveText("Federation off");
  await snap(page, "mocked-sites-disabled");
});

test("federated sites with link health", async ({ page }) => {
  await mockJson(page, "**/api/v1/system/topology", {
    sites: [LOCAL, BRANCH], federation_enabled: true, local_site_id: "hq", data_source: "database",
    links: [{ link_id: "link-branch-hq", site_a: "branch", site_b: "hq", status: "degraded", latency_ms: 41.5, last_seen_at: NOW }],
  });
  await page.goto("/sites");
  await expect(page.getByTestId("site-row")).toHaveCount(2);
  await expect(page.getByTestId("link-row")).toContainText("branch ↔ hq");
  await expect(page.getByTestId("link-row")).toContainText("41.5 ms");
  await expect(page.getByTestId("link-row")).toContainText("degraded");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await snap(page, "mocked-sites-federated");
});

test("unavailable database and missing permission", async ({ page }) => {
  await mockMode(page, "dry_run", false);
  await mockJson(page, "**/api/v1/system/topology", UNAVAILABLE, 503);
  await page.goto("/sites");
  await expect(page.getByTestId("data-unavailable")).toContainText("Site registry unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);

  await mockSession(page, { user: { ...OPERATOR, permissions: ["alerts:read"] } });
  await page.reload();
  await expect(page.getByTestId("forbidden")).toContainText("sites:read");
});
