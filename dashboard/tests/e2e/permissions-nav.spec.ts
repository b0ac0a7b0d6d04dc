/** Navigation is gated on the permissions list, never on the role name (contract D6). */
import { expect, mockJson, mockMode, mockSession, page as pageOf, test } from "./support/mockApi";

test("an operator with alerts:read and cases:read sees exactly Alerts and Cases", async ({ page }) => {
  await mockSession(page, { user: { username: "op", role: "operator", permissions: ["alerts:read", "cases:read"] } });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/alerts?*", pageOf([]));
  await page.goto("/");
  await expect(page).toHaveURL(/\/alerts$/); // no dashboard:read → first permitted page
  const nav = page.getByTestId("sidebar");
  await expect(nav.getByRole("link", { name: "Alerts" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Cases" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Overview" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Settings" })).toHaveCount(0);
  // "Network" is gated on alerts:read too (spec §24.3).
  await expect(nav.getByRole("link")).toHaveText(["Alerts", "Cases", "Network"]);
});

test("the role name grants nothing by itself", async ({ page }) => {
  await mockSession(page, { user: { username: "fake", role: "admin", permissions: ["cases:read"] } });
  await mockMode(page, "real");
  await page.goto("/settings");
  await expect(page.getByTestId("forbidden")).toContainText("settings:manage");
  await expect(page.getByTestId("sidebar").getByRole("link")).toHaveText(["Cases"]);
});

test("'*' grants every page", async ({ page }) => {
  await mockSession(page, { user: { username: "root", role: "admin", permissions: ["*"] } });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/agents", { items: [], total: 0, llm_configured: false });
  await page.goto("/agents");
  await expect(page.getByTestId("empty-state")).toHaveText("Agents are not configured");
  await expect(page.getByTestId("sidebar").getByRole("link")).toHaveCount(18);
});

test("actions need their permission: a viewer gets no promote or bulk buttons", async ({ page }) => {
  await mockSession(page, { user: { username: "v", role: "viewer", permissions: ["alerts:read"] } });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/alerts?*", pageOf([]));
  await page.goto("/alerts");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await expect(page.getByTestId("bulk-resolve")).toHaveCount(0);
  await expect(page.getByTestId("bulk-create-case")).toHaveCount(0);
});
