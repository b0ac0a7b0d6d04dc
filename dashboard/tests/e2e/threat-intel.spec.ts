/** Threat Intel: IOC table, detail with linked alerts, lookup with enrichment, edit, TLP:RED never shared. */
import { IOC, IOC_DETAIL } from "./support/fixtures";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const HUNTER = { username: "hunt", role: "analyst", permissions: ["iocs:read", "iocs:write", "alerts:read"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: HUNTER });
  await mockMode(page, "real");
});

test("IOC table, detail with linked alerts, lookup and similar", async ({ page }) => {
  await mockJson(page, "**/api/v1/iocs?*", pageOf([IOC]));
  await mockJson(page, `**/api/v1/iocs/${IOC.id}`, IOC_DETAIL);
  await mockJson(page, "**/api/v1/iocs/lookup", {
    type: "ip", value: "185.220.101.4", ioc: IOC, linked_alerts: [], linked_alert_count: 1, cached: false, data_source: "database",
    enrichment: [{ provider: "simulated", ioc_type: "ip", value: "185.220.101.4", verdict: "malicious", score: 0.9, simulated: true, summary: "Tor exit node", context: {}, error: null, fetched_at: IOC.created_at }],
  });
  await mockJson(page, "**/api/v1/iocs/similar?*", { query: "185.220.101.4", method: "lexical", note: "Lexical similarity", data_source: "database",
    items: [{ ioc: { ...IOC, id: "x2", value: "185.220.101.9" }, reason: "same /24", score: 0.7 }] });
  await page.goto("/threat-intel");
  const row = page.getByTestId("ioc-row");
  await expect(row).toContainText("185.220.101.4");
  await expect(row).toContainText("80%");
  await row.click();
  await expect(page.getByTestId("ioc-linked-alerts")).toContainText("Member Added to Local Administrators");
  await page.getByTestId("lookup-input").fill(" 185.220.101.4 ");
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("lookup-result")).toContainText("known locally (1 linked alert(s))");
  await expect(page.getByTestId("enrichment-row")).toContainText("simulated: malicious (90%)");
  await expect(page.getByTestId("enrichment-row").getByTestId("simulated-label")).toBeVisible();
  await expect(page.getByTestId("similar-result")).toContainText("185.220.101.9 · same /24");
  await snap(page, "mocked-threat-intel");
});

test("edit saves status, TLP, confidence and tags; TLP:RED cannot be shared", async ({ page }) => {
  await mockJson(page, "**/api/v1/iocs?*", pageOf([IOC]));
  await mockJson(page, `**/api/v1/iocs/${IOC.id}`, { ...IOC_DETAIL, tlp: "red" });
  let patch: unknown = null;
  await page.route(`**/api/v1/iocs/${IOC.id}`, (route) => {
    if (route.request().method() !== "PATCH") return route.fallback();
    patch = route.request().postDataJSON();
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ ...IOC, status: "false_positive" }) });
  });
  await page.goto("/threat-intel");
  await page.getByTestId("ioc-row").click();
  await expect(page.getByTestId("share-ioc")).toBeDisabled();
  await expect(page.getByTestId("ioc-detail").getByTestId("readonly-reason")).toHaveAttribute("title", "TLP:RED never leaves this site");
  await page.getByLabel("Status").last().selectOption("false_positive");
  await page.getByTestId("save-ioc").click();
  await expect.poll(() => patch).toMatchObject({ status: "false_positive", tlp: "red", confidence: 0.8, tags: ["tor-exit"] });
});

test("empty, unavailable and dry_run", async ({ page }) => {
  await mockJson(page, "**/api/v1/iocs?*", pageOf([]));
  await page.goto("/threat-intel");
  await expect(page.getByTestId("empty-state")).toContainText("No IOCs recorded. What alerts extract stays an observable");
  await expect(page.getByTestId("add-ioc")).toBeEnabled();

  await mockMode(page, "dry_run", false);
  await mockJson(page, "**/api/v1/iocs?*", UNAVAILABLE, 503);
  await page.reload();
  await expect(page.getByTestId("data-unavailable")).toContainText("IOC database unavailable");
  await expect(page.getByTestId("lookup-input")).toBeDisabled();
  await expect(page.getByTestId("add-ioc")).toBeDisabled();
});

test("keyboard: skip link reaches the page, Enter on a focused row opens its detail", async ({ page }) => {
  await mockJson(page, "**/api/v1/iocs?*", pageOf([IOC]));
  await mockJson(page, `**/api/v1/iocs/${IOC.id}`, IOC_DETAIL);
  await page.goto("/threat-intel");
  await expect(page.getByTestId("ioc-row")).toHaveCount(1);
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("skip-link")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#content")).toBeFocused();
  await page.getByTestId("ioc-row").first().focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("ioc-detail")).toBeVisible();
});
