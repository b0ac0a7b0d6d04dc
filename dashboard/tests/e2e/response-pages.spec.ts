/** Reports, Endpoints, UEBA and the case page's response sections (approvals, runs, reports). */
import { ALERT, APPROVAL, CASE_DETAIL, EXECUTION, HOST, REPORT, SYSTEM_USER, USER } from "./support/fixtures";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const ANALYST = {
  username: "ana", role: "analyst",
  permissions: ["cases:read", "cases:write", "reports:read", "reports:generate", "siem:read", "playbooks:read", "playbooks:execute"],
} satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: ANALYST });
  await mockMode(page, "real");
});

test("reports: list with Markdown, HTML and PDF downloads", async ({ page }) => {
  await mockJson(page, "**/api/v1/reports?*", pageOf([REPORT]));
  await page.goto("/reports");
  const row = page.getByTestId("report-row");
  await expect(row).toContainText("Executive report: Privilege escalation on WIN-DC01");
  for (const format of ["md", "html", "pdf"]) {
    await expect(row.locator(`a[data-format=${format}]`)).toHaveAttribute("href", `/api/v1/reports/${REPORT.id}/download?format=${format}`);
  }
  await expect(row.getByRole("link", { name: "open case" })).toHaveAttribute("href", `/cases/${REPORT.case_id}`);
  await snap(page, "mocked-reports");
});

test("reports, endpoints, ueba: empty is not unavailable", async ({ page }) => {
  await mockJson(page, "**/api/v1/reports?*", pageOf([]));
  await mockJson(page, "**/api/v1/entities/hosts?*", pageOf([]));
  await mockJson(page, "**/api/v1/entities/users?*", UNAVAILABLE, 503);
  await page.goto("/reports");
  await expect(page.getByTestId("empty-state")).toHaveText("No reports generated");
  await page.goto("/endpoints");
  await expect(page.getByTestId("empty-state")).toHaveText("No endpoints seen");
  await page.goto("/ueba");
  await expect(page.getByTestId("data-unavailable")).toContainText("User analytics unavailable");
  await expect(page.getByTestId("search-input")).toBeDisabled();
});

test("endpoints and UEBA: riskiest first with risk bars and top techniques", async ({ page }) => {
  await mockJson(page, "**/api/v1/entities/hosts?*", pageOf([HOST]));
  await mockJson(page, "**/api/v1/entities/users?*", pageOf([SYSTEM_USER, USER]));
  await page.goto("/endpoints");
  const host = page.getByTestId("entity-row");
  await expect(host).toContainText("MSEDGEWIN10");
  await expect(host.getByTestId("risk-bar")).toHaveAttribute("data-risk", "62");
  await expect(host).toContainText("T1136");
  // all time: an entity from imported 2019 logs has no events in the last 7 days
  await expect(host.getByRole("link", { name: "events" })).toHaveAttribute("href", /\/siem\?range=all&q=host%3A%22MSEDGEWIN10%22/);
  await snap(page, "mocked-endpoints");
  await page.goto("/ueba");
  const [system, person] = [page.getByTestId("entity-row").first(), page.getByTestId("entity-row").nth(1)];
  await expect(person).toContainText("IEUser");
  await expect(person.getByTestId("risk-bar")).toHaveAttribute("data-risk", "8");
  await expect(system.getByTestId("service-account")).toHaveText("service account");
  await expect(person.getByTestId("service-account")).toHaveCount(0);
});

test("an endpoint's alerts link opens the queue filtered to that host", async ({ page }) => {
  await mockSession(page, { user: { ...ANALYST, permissions: [...ANALYST.permissions, "alerts:read"] } });
  await mockJson(page, "**/api/v1/entities/hosts?*", pageOf([HOST]));
  const asked: string[] = [];
  await page.route("**/api/v1/alerts?*", (route) => {
    asked.push(new URL(route.request().url()).searchParams.get("asset") ?? "");
    return route.fulfill({ json: pageOf([ALERT]) });
  });
  await page.goto("/endpoints");
  await page.getByTestId("entity-alerts").click();
  await expect(page.getByTestId("asset-filter")).toContainText("host:MSEDGEWIN10");
  await expect(page.getByTestId("alert-row")).toHaveCount(1);
  expect(asked.at(-1)).toBe("host:MSEDGEWIN10");
  await page.getByRole("button", { name: "Clear asset filter" }).click();
  await expect(page.getByTestId("asset-filter")).toHaveCount(0);
  await expect.poll(() => asked.at(-1)).toBe("");
});

const RICH_CASE = { ...CASE_DETAIL, approvals: [APPROVAL], executions: [EXECUTION], reports: [REPORT] };

test("case detail: approvals, playbook runs and reports from the case response", async ({ page }) => {
  await mockJson(page, `**/api/v1/cases/${RICH_CASE.id}`, RICH_CASE);
  await page.goto(`/cases/${RICH_CASE.id}`);
  await expect(page.getByTestId("case-approval")).toContainText("isolate_host on MSEDGEWIN10");
  await expect(page.getByTestId("case-approval").getByRole("link", { name: "decide" })).toBeVisible();
  await expect(page.getByTestId("case-execution")).toContainText("malware-response");
  await expect(page.getByTestId("case-execution").getByTestId("simulated-label")).toHaveCount(2);
  await expect(page.getByTestId("case-report")).toContainText("Executive report");
  await snap(page, "mocked-case-detail-response");
});

test("dry_run case: report generation is a preview rendered from the server's HTML", async ({ page }) => {
  await mockMode(page, "dry_run");
  await mockJson(page, `**/api/v1/cases/${RICH_CASE.id}`, { ...RICH_CASE, reports: [] });
  let body: unknown = null;
  await page.route("**/api/v1/reports/generate?preview=true", (route) => {
    body = route.request().postDataJSON();
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({
      preview: true, mode: "dry_run", effects: [{ action: "store_report" }],
      report: { ...REPORT, report_type: "compliance", title: "Compliance report: draft", content_md: "# Draft", content_html: "<h1>Compliance draft</h1>", snapshot: {} },
    }) });
  });
  await page.goto(`/cases/${RICH_CASE.id}`);
  await page.getByTestId("report-type").selectOption("compliance");
  await page.getByRole("button", { name: "Preview: Generate report" }).click();
  await expect(page.getByTestId("report-preview")).toContainText("Preview (dry_run) — not stored: Compliance report: draft");
  await expect(page.frameLocator("iframe[title='Report preview']").locator("h1")).toHaveText("Compliance draft");
  expect(body).toEqual({ case_id: RICH_CASE.id, report_type: "compliance" });
  await expect(page.getByRole("button", { name: "Preview: Run playbook" })).toBeEnabled();
});
