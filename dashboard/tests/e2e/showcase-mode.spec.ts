/** Dummy mode with the database down: showcase rows, badge and banner, actions preview-only. */
import { ALERT } from "./support/fixtures";
import { expect, mockJson, mockMode, mockSession, test } from "./support/mockApi";

test("alerts come from showcase data and say so", async ({ page }) => {
  await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read", "alerts:write", "cases:write"] } });
  await mockMode(page, "dummy", false);
  await mockJson(page, "**/api/v1/alerts?*", { items: [ALERT], total: 1, skip: 0, limit: 50, data_source: "showcase" });
  await page.goto("/alerts");
  await expect(page.getByTestId("showcase-badge")).toBeVisible();
  await expect(page.getByTestId("runtime-banner")).toContainText("Showcase data");
  await expect(page.getByTestId("runtime-banner")).toHaveAttribute("data-read-source", "showcase");
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  await expect(page.getByTestId("bulk-resolve")).toBeDisabled();
});
