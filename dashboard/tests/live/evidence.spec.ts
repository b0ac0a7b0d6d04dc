/**
 * Evidence you can trust (spec §27) in a real browser against a real server: a real Sysmon EVTX of
 * MSEDGEWIN10 (2019) is sent through HTTP ingest; the SIEM page finds its events although they are
 * years old (newest-at jump, all time, histogram, facets) and the alert shows host, user, event time,
 * the process and its parent, and links to its events in SIEM search.
 */
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { SHARED, base, signIn } from "./support/session";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const COMSVCS = join(SHARED, "evtx-attack-samples/Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx");
const RULE = "LSASS Dump via comsvcs.dll MiniDump";
const SHOTS = "test-results/screenshots";

async function shot(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId("loading-skeleton")).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function token(request: APIRequestContext): Promise<string> {
  const resp = await request.post(`${base()}/api/v1/auth/token`, {
    data: { username: "admin", password: process.env.LIVE_ADMIN_PASSWORD! },
  });
  expect(resp.ok()).toBeTruthy();
  return (await resp.json()).access_token as string;
}

test.describe.serial("evidence", () => {
  test.beforeAll(async ({ request }) => {
    const headers = { Authorization: `Bearer ${await token(request)}` };
    const sent = await request.post(`${base()}/api/v1/siem/ingest?source=msedgewin10-sysmon&format=evtx`, {
      headers: { ...headers, "Content-Type": "application/octet-stream" },
      data: readFileSync(COMSVCS),
    });
    expect(sent.status()).toBe(202);
    await expect
      .poll(async () => {
        const found = await request.get(`${base()}/api/v1/alerts`, { headers, params: { host: "MSEDGEWIN10", q: "comsvcs" } });
        return (await found.json()).total as number;
      }, { timeout: 30_000 })
      .toBeGreaterThan(0);
  });

  test("SIEM finds MSEDGEWIN10's 2019 events: newest-at jump, all time, histogram, facets", async ({ page }) => {
    await signIn(page, "/siem?q=host:MSEDGEWIN10");
    await expect(page.getByTestId("newest-at")).toContainText("No events in this range");
    await page.getByTestId("jump-newest").click();
    await expect(page.getByTestId("log-row").first()).toContainText("MSEDGEWIN10");
    await page.getByTestId("range-select").selectOption("all");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByTestId("logs-total")).toHaveText(/^[1-9][\d,]* events$/);
    await expect(page.getByTestId("log-row").first()).toContainText("MSEDGEWIN10");
    await expect(page.getByTestId("histogram-bar").first()).toBeVisible();
    await expect(page.getByTestId("facet-host").first()).toContainText("MSEDGEWIN10");
    await expect(page.getByTestId("facet-process_executable").first()).toBeVisible();
    await shot(page, "siem-all-time");
  });

  test("queue filters by host; alert detail shows host, user, event time, process and parent", async ({ page }) => {
    await signIn(page, "/alerts?host=MSEDGEWIN10");
    const row = page.getByTestId("alert-row").filter({ hasText: RULE });
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("alert-host")).toHaveText("MSEDGEWIN10");
    await expect(row.getByTestId("alert-user")).toHaveText("MSEDGEWIN10\\IEUser");
    await shot(page, "alerts-by-host");
    await row.getByRole("link", { name: RULE }).click();
    const panel = page.getByTestId("evidence-panel");
    await expect(panel.getByTestId("evidence-host")).toHaveText("MSEDGEWIN10");
    await expect(panel.getByTestId("evidence-user")).toHaveText("MSEDGEWIN10\\IEUser");
    await expect(panel.getByTestId("evidence-event-time")).toContainText("8/30/19");
    const nodes = panel.getByTestId("process-node");
    await expect(nodes.first()).toContainText("rundll32.exe");
    await expect(nodes.first()).toContainText("comsvcs");
    await expect(nodes.nth(1)).toContainText("WmiPrvSE.exe");
    await expect(panel.getByTestId("evidence-event").first()).toContainText("Microsoft-Windows-Sysmon/Operational");
    await expect(page.getByTestId("raw-log")).toContainText('"EventID": 1');
    await shot(page, "alert-evidence");
    await panel.getByTestId("evidence-siem-link").click();
    await expect(page).toHaveURL(/\/siem\?/);
    await expect(page.getByTestId("log-row").first()).toContainText("MSEDGEWIN10");
    await expect(page.getByTestId("since-input")).toHaveValue(/^2019-08-30T/);
    await shot(page, "siem-from-alert");
  });
});
