/** dry_run with the database up: live rows, mutating buttons disabled or offered as Preview. */
import { ALERT, ALERT_DETAIL, CASE_DETAIL } from "./support/fixtures";
import { expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = { username: "ana", role: "analyst", permissions: ["alerts:read", "alerts:write", "cases:read", "cases:write", "cases:close"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "dry_run");
});

test("alert list: banner says previews, bulk actions are disabled with a reason", async ({ page }) => {
  await mockJson(page, "**/api/v1/alerts?*", pageOf([ALERT]));
  await page.goto("/alerts");
  await expect(page.getByTestId("runtime-banner")).toHaveText("Dry run — actions are previews");
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  await expect(page.getByTestId("search-input")).toBeEnabled();
  await expect(page.getByTestId("bulk-resolve")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason").first()).toHaveAttribute("title", "Dry run — actions are previews");
});

test("alert detail: acknowledge and promote run as previews", async ({ page }) => {
  await mockJson(page, `**/api/v1/alerts/${ALERT.id}`, ALERT_DETAIL);
  let previewQuery = "";
  await page.route(`**/api/v1/alerts/${ALERT.id}/promote?*`, (route) => {
    previewQuery = new URL(route.request().url()).search;
    return route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ preview: true, mode: "dry_run", effects: [{ action: "create_case", title: ALERT.title }] }),
    });
  });
  await page.goto(`/alerts/${ALERT.id}`);
  await expect(page.getByTestId("raw-log")).toContainText("4732");
  await expect(page.getByTestId("alert-techniques")).toContainText("Account Manipulation");
  await page.getByRole("button", { name: "Preview: Promote to case" }).click();
  await expect(page.getByTestId("preview-result")).toContainText("nothing was changed");
  expect(previewQuery).toBe("?preview=true");
  await snap(page, "mocked-alert-detail-dry-run");
});

test("case detail: status moves and comments are blocked with a reason", async ({ page }) => {
  await mockJson(page, `**/api/v1/cases/${CASE_DETAIL.id}`, CASE_DETAIL);
  await page.goto(`/cases/${CASE_DETAIL.id}`);
  await expect(page.getByTestId("timeline-entry")).toHaveCount(1);
  await expect(page.getByTestId("status-select")).toBeDisabled();
  await expect(page.getByTestId("apply-status")).toBeDisabled();
  await expect(page.getByTestId("comment-input")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason").first()).toHaveAttribute("title", /Dry run/);
});

test("dummy mode with the database up says changes are blocked", async ({ page }) => {
  await mockMode(page, "dummy");
  await mockJson(page, "**/api/v1/cases?*", pageOf([]));
  await page.goto("/cases");
  await expect(page.getByTestId("runtime-banner")).toHaveText("Dummy mode — changes are blocked");
  await expect(page.getByTestId("empty-state")).toHaveText("No cases yet");
});
