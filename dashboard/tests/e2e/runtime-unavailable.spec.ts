/** Alerts and Cases under dry_run with the database down: "unavailable" is not "empty". */
import { LOCAL_PROVIDER, UNAVAILABLE, expect, mockJson, snap, test } from "./support/mockApi";

test.beforeEach(async ({ page }) => {
  await mockJson(page, "**/api/v1/auth/providers", { providers: [LOCAL_PROVIDER] });
  await page.route("**/api/v1/users/me", async (route) => {
    await route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        username: "playwright.operator",
        role: "operator",
        permissions: ["alerts:read", "cases:read"],
        auth_provider: "local",
      }),
    });
  });
  await page.route("**/api/v1/system/mode", async (route) => {
    await route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        mode: "dry_run",
        description: "Dry run mode is active.",
        is_read_only: true,
        is_mutations_allowed: false,
        is_external_actions_allowed: false,
        is_database_available: false,
        showcase_reads_allowed: false,
        uses_showcase_data: false,
        read_data_source: "unavailable",
      }),
    });
  });
});

test("alerts page shows the unavailable queue, not an empty one", async ({ page }) => {
  await mockJson(page, "**/api/v1/alerts?*", UNAVAILABLE, 503);
  await page.goto("/alerts");
  const banner = page.getByTestId("runtime-banner");
  await expect(banner).toHaveText("Live data unavailable — the database is not reachable (mode: dry_run)");
  await expect(banner).toHaveAttribute("data-mode", "dry_run");
  await expect(banner).toHaveAttribute("data-read-source", "unavailable");
  const region = page.getByTestId("data-unavailable");
  await expect(region).toContainText("Live alert queue unavailable");
  await expect(region).toContainText("queued");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("search-input")).toBeDisabled();
  await expect(page.getByRole("button", { name: "Search" })).toBeDisabled();
  await expect(page.getByTestId("retry-button")).toBeEnabled();
  await expect(page.getByTestId("mode-settings-link")).toHaveCount(0);
  await snap(page, "mocked-alerts-unavailable");
});

test("cases page shows the unavailable state and recovery links", async ({ page }) => {
  await mockJson(page, "**/api/v1/cases?*", UNAVAILABLE, 503);
  await page.goto("/cases");
  await expect(page.getByTestId("runtime-banner")).toContainText("Live data unavailable");
  await expect(page.getByTestId("data-unavailable")).toContainText("Live case data unavailable");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("search-input")).toBeDisabled();
  await expect(page.getByTestId("retry-button")).toBeVisible();
  await expect(page.getByTestId("mode-settings-link")).toHaveCount(0);
});

test("retry issues the read again", async ({ page }) => {
  let calls = 0;
  await page.route("**/api/v1/alerts?*", (route) => {
    calls += 1;
    return route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify(UNAVAILABLE) });
  });
  await page.goto("/alerts");
  await expect(page.getByTestId("data-unavailable")).toBeVisible();
  const before = calls;
  await page.getByTestId("retry-button").click();
  await expect.poll(() => calls).toBeGreaterThan(before);
});
