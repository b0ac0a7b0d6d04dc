/** With settings:manage the unavailable state links to Settings → Operation mode. */
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, test } from "./support/mockApi";

test("admin sees the mode settings link and disabled actions", async ({ page }) => {
  await mockSession(page, { user: { username: "root", role: "admin", permissions: ["*"] } });
  await mockMode(page, "real", false);
  await mockJson(page, "**/api/v1/alerts?*", UNAVAILABLE, 503);
  await page.goto("/alerts");
  await expect(page.getByTestId("data-unavailable")).toBeVisible();
  await expect(page.getByTestId("bulk-resolve")).toBeDisabled();
  await expect(page.getByTestId("bulk-create-case")).toBeDisabled();
  const link = page.getByTestId("mode-settings-link");
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(/\/settings\?tab=mode/);
  await expect(page.getByTestId("mode-panel")).toContainText("not reachable");
});
