/** Case list: sortable columns (severity, title, status, opened, updated), the sort kept in the URL. */
import { expect, mockMode, mockSession, page as pageOf, test, type MockUser } from "./support/mockApi";

const ANALYST = { username: "ana", role: "analyst", permissions: ["cases:read", "alerts:read"] } satisfies MockUser;
const AT = "2026-11-24T21:00:00Z";
const CASE = {
  id: "7d2f0c1e-2222-4c6d-9a51-0d2b6f0c0a01", title: "MSEDGEWIN10: Shadow Copy Deletion", description: null,
  severity: "critical", status: "open", assigned_to: null, assigned_agent: null, source: "correlation",
  cps_involved: false, confidence: null, mitre_techniques: [], iocs: [], affected_assets: [], recommendations: [],
  resolution_notes: null, created_by: "system", closed_at: null, metadata: {}, created_at: AT, updated_at: AT,
  alert_count: 76, first_seen_at: "2019-03-18T09:00:00Z", last_seen_at: "2019-03-18T09:28:00Z",
};

test("a column header sorts the list, descending first; the sort survives a reload", async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "real");
  const sorts: string[] = [];
  await page.route("**/api/v1/cases?*", (route) => {
    sorts.push(new URL(route.request().url()).searchParams.get("sort") ?? "");
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf([CASE])) });
  });
  await page.goto("/cases");
  await expect(page.getByTestId("case-alert-count")).toHaveText("76");
  const severity = page.getByRole("columnheader", { name: /Severity/ });
  await expect(page.getByRole("columnheader", { name: /Updated/ })).toHaveAttribute("aria-sort", "descending");
  await severity.getByRole("button").click();
  await expect(severity).toHaveAttribute("aria-sort", "descending");
  await expect(page).toHaveURL(/sort=-severity/);
  await severity.getByRole("button").click();
  await expect(severity).toHaveAttribute("aria-sort", "ascending");
  await page.reload();
  await expect(page.getByRole("columnheader", { name: /Severity/ })).toHaveAttribute("aria-sort", "ascending");
  expect(sorts[0]).toBe("-updated_at");
  expect(sorts).toContain("-severity");
  expect(sorts.at(-1)).toBe("severity");
});
