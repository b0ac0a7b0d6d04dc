/**
 * The operator flow against a real server: sign in, find the alert the ingested EVTX produced,
 * promote it, follow the case timeline, run the malware-response playbook on the case (its
 * isolate_host step waits for a human), approve that in the Approvals queue, see the run finish
 * with SIMULATED connector results, generate a report; then screenshot every page with real content.
 */
import { expect, test, type Page } from "@playwright/test";
import { createPrivateKey, sign } from "node:crypto";

const base = () => process.env.LIVE_BASE_URL!;
const SHOTS = "test-results/screenshots";

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base()}/alerts`);
  await expect(page).toHaveURL(/\/login\?next=%2Falerts/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(process.env.LIVE_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/alerts$/);
}

async function shot(page: Page, name: string): Promise<void> {
  await expect(page.getByTestId("loading-skeleton")).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Case page → Run playbook (preview, execute) → Approvals → approve → the run completes. */
async function runPlaybookAndApprove(page: Page, caseUrl: string): Promise<void> {
  // A second tab on the queue: the request must arrive over /ws/approvals, well before the 15 s poll.
  const queue = await page.context().newPage();
  await queue.goto(`${base()}/approvals`);
  await expect(queue.getByTestId("empty-state")).toHaveText("No pending approvals");
  await page.getByTestId("run-playbook").click();
  await page.getByTestId("playbook-select").selectOption({ label: "malware-response (disabled)" });
  await page.getByTestId("playbook-preview-button").click();
  await expect(page.getByTestId("preview-step")).toHaveCount(4);
  await expect(page.getByTestId("preview-step").first()).toContainText("required");
  await page.getByTestId("playbook-execute").click();
  await expect(page.getByTestId("execution-result")).toContainText("Execution awaiting_approval");
  await expect(page.getByTestId("case-approval")).toContainText("isolate_host on MSEDGEWIN10 · pending");
  await expect(queue.getByTestId("approval-card")).toHaveCount(1, { timeout: 5_000 });
  await queue.close();

  await page.getByTestId("case-approval").getByRole("link", { name: "decide" }).click();
  const card = page.getByTestId("approval-card").filter({ hasText: "isolate_host" });
  await expect(card.getByTestId("approval-target")).toHaveText("MSEDGEWIN10");
  await expect(card.getByTestId("approval-requester")).toHaveText("playbook:malware-response");
  await expect(card.getByTestId("approval-countdown")).toHaveText(/expires in \d+m/);
  await shot(page, "approvals");
  await card.getByTestId("decision-comment").fill("Owner confirmed the change was not planned: isolate.");
  await card.getByTestId("approve-button").click();
  await expect(page.getByTestId("empty-state")).toHaveText("No pending approvals");
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByTestId("approval-row").first()).toContainText("approved");
  await expect(page.getByTestId("approval-row").first()).toContainText("not planned");

  await page.goto(caseUrl);
  const run = page.getByTestId("case-execution");
  await expect(run).toContainText("malware-response v1 · completed");
  await expect(run.getByTestId("execution-step").first()).toContainText("completed");
  await expect(run.getByTestId("simulated-label").first()).toBeVisible();
  await expect(page.getByTestId("case-approval")).toContainText("approved by admin");
}

test.describe.serial("live console", () => {
  test("sign in, promote the ingested alert, follow the case timeline", async ({ page }) => {
    await signIn(page);
    const row = page.getByTestId("alert-row").filter({ hasText: "Member Added to Local Administrators" });
    await expect(row).toHaveCount(1);
    await shot(page, "alerts");
    await row.getByRole("link").click();
    await expect(page.getByTestId("raw-log")).toContainText("4732");
    await expect(page.getByTestId("alert-status")).toHaveText("new");
    await shot(page, "alert-detail");

    await page.getByTestId("promote").click();
    await expect(page).toHaveURL(/\/cases\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("case-status")).toHaveText("in_progress");
    await expect(page.getByTestId("case-alerts")).toContainText("Member Added to Local Administrators");
    const entries = page.getByTestId("timeline-entry");
    await expect(entries.first()).toBeVisible();
    const before = await entries.count();

    await page.getByTestId("comment-input").fill("Checked with the domain admins: not a planned change.");
    await page.getByTestId("comment-submit").click();
    await expect(entries).toHaveCount(before + 1);
    await expect(page.getByTestId("case-timeline")).toContainText("not a planned change");
    await shot(page, "case-detail");

    const caseUrl = page.url();

    await runPlaybookAndApprove(page, caseUrl);

    await page.getByTestId("generate-report-button").click();
    await expect(page.getByTestId("case-report")).toContainText("Technical report: Member Added to Local Administrators");
    await shot(page, "case-detail");

    await page.goto(`${base()}/alerts`);
    await expect(page.getByTestId("alert-row").filter({ hasText: "Member Added to Local Administrators" })).toContainText("escalated");
  });

  test("threat intel: record an IOC, look it up with enrichment", async ({ page }) => {
    await signIn(page);
    await page.goto(`${base()}/threat-intel`);
    // The ingested EVE alert's addresses are observables, not indicators (spec §27.3): no feed, analyst
    // or playbook named them, so the IOC store does not list them.
    await expect(page.getByTestId("add-ioc")).toBeVisible();
    await expect(page.getByTestId("ioc-row").filter({ hasText: "203.0.113.50" })).toHaveCount(0);
    await page.getByTestId("add-ioc").click();
    await page.getByLabel("Value (type is inferred)").fill("185.220.101.4");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    const row = page.getByTestId("ioc-row").filter({ hasText: "185.220.101.4" });
    await expect(row).toContainText("185.220.101.4");
    await expect(row.locator("td").first()).toHaveText("ip");
    await page.getByTestId("lookup-input").fill("185.220.101.4");
    await page.getByRole("button", { name: "Look up" }).click();
    await expect(page.getByTestId("lookup-result")).toContainText("known locally");
    await expect(page.getByTestId("enrichment-row").first()).toBeVisible();
    await row.click();
    await expect(page.getByTestId("ioc-detail")).toContainText("1 sighting(s)");
  });

  test("agents: dispatch on the offline analyst, follow the cited steps", async ({ page }) => {
    await signIn(page);
    const link = page.getByTestId("alert-row").filter({ hasText: "Member Added to Local Administrators" }).getByRole("link").first();
    const alertId = (await link.getAttribute("href"))!.split("/").pop()!;
    await page.goto(`${base()}/agents`);
    await expect(page.getByTestId("agents-backend")).toContainText("offline analyst");
    await page.getByTestId("open-dispatch").click();
    await page.getByTestId("dispatch-prompt").fill("Investigate this alert and cite the evidence.");
    await page.getByTestId("dispatch-alert_id").fill(alertId);
    await page.getByTestId("dispatch-submit").click();
    await page.getByTestId("dispatch-receipt").getByRole("link").click();
    await expect(page.getByTestId("investigation-backend")).toHaveText("offline");
    await expect(page.getByTestId("citation").first()).toHaveAttribute("href", /^#event-\d+$/);
    await expect(page.getByTestId("investigation-event").filter({ hasText: "calls search_alerts" }).first()).toBeVisible();
    await shot(page, "investigation-detail");
  });

  test("CPS and firmware: register a device, upload a signed bundle, draft its rollout", async ({ page }) => {
    await signIn(page);
    await page.goto(`${base()}/cps`);
    await page.getByRole("button", { name: "Register device" }).click();
    const form = page.getByTestId("register-form");
    await form.getByLabel("Device ID").fill("plc-hall-7");
    await form.getByLabel("Name").fill("Hall 7 PLC");
    await form.getByLabel("Device type").fill("plc");
    await form.getByLabel("Zone").fill("ot-cell-1");
    await form.getByLabel("Firmware version").fill("1.4.2");
    await page.getByTestId("register-submit").click();
    await expect(page).toHaveURL(/\/cps\/devices\/plc-hall-7$/);
    await shot(page, "cps-device");

    const image = Buffer.from("AuroraSOC live-test firmware image 1.5.0\n".repeat(64));
    const signature = sign(null, image, createPrivateKey(process.env.LIVE_FIRMWARE_KEY!)).toString("hex");
    await page.goto(`${base()}/firmware`);
    await page.getByTestId("upload-bundle").click();
    const upload = page.getByTestId("upload-form");
    await upload.getByLabel("Version").fill("1.5.0");
    await upload.getByLabel("Device type").fill("plc");
    await upload.getByLabel("Ed25519 signature (hex)").fill(signature);
    await page.getByTestId("upload-file").setInputFiles({ name: "plc-1.5.0.bin", mimeType: "application/octet-stream", buffer: image });
    await page.getByTestId("upload-submit").click();
    const bundle = page.getByTestId("bundle-row").filter({ hasText: "1.5.0" });
    await expect(bundle.getByTestId("bundle-signature")).toContainText("valid");
    await bundle.getByTestId("new-rollout").click();
    await expect(page.getByTestId("rollout-row").first().getByTestId("rollout-status")).toHaveText("draft");
  });

  test("every page renders real content (screenshots)", async ({ page }) => {
    test.setTimeout(120_000); // 28 pages with screenshots, then an analyzer run: ~40 s on a busy machine
    await signIn(page);
    const pages: Array<[string, string]> = [
      ["/", "overview"],
      ["/cases", "cases"],
      ["/siem", "siem-search"],
      ["/siem?tab=sources", "siem-sources"],
      ["/siem?tab=hunts", "siem-hunts"],
      ["/detections", "detections"],
      ["/settings?tab=mode", "settings-mode"],
      ["/settings?tab=users", "settings-users"],
      ["/settings?tab=keys", "settings-api-keys"],
      ["/settings?tab=audit", "settings-audit"],
      ["/settings?tab=status", "settings-status"],
      ["/profile", "profile"],
      ["/approvals?tab=history", "approvals-history"],
      ["/soar", "soar-playbooks"],
      ["/soar?tab=executions", "soar-executions"],
      ["/soar?tab=rules", "soar-rules"],
      ["/reports", "reports"],
      ["/endpoints", "endpoints"],
      ["/ueba", "ueba"],
      ["/threat-intel", "threat-intel"],
      ["/investigations", "investigations"],
      ["/agents", "agents"],
      ["/cps", "cps"],
      ["/cps?tab=zones", "cps-zones"],
      ["/firmware", "firmware"],
      ["/network", "network"],
      ["/sites", "sites"],
    ];
    for (const [path, name] of pages) {
      await page.goto(`${base()}${path}`);
      await expect(page.locator("#page-title")).toBeVisible();
      await expect(page.getByTestId("data-unavailable")).toHaveCount(0);
      await shot(page, name);
    }
    await page.goto(`${base()}/`);
    await expect(page.getByTestId("recent-alerts")).toContainText("Member Added to Local Administrators");
    await page.goto(`${base()}/settings?tab=audit`);
    await expect(page.getByTestId("audit-table")).toContainText("alert.promote");
    await page.goto(`${base()}/detections`);
    await expect(page.getByTestId("rules-table")).toContainText("Member Added to Local Administrators");
    await page.goto(`${base()}/endpoints`);
    await expect(page.getByTestId("entity-row").filter({ hasText: "MSEDGEWIN10" }).getByTestId("risk-bar")).toBeVisible();
    await page.goto(`${base()}/ueba`);
    await expect(page.getByTestId("entity-row")).toContainText("IEUser");
    await page.goto(`${base()}/settings?tab=status`);
    await expect(page.getByTestId("status-roles")).toContainText("pipeline");
    await expect(page.getByTestId("dependency-database")).toHaveText("up");
    await page.goto(`${base()}/network`);
    await expect(page.getByTestId("attack-row")).toContainText("Command and control 10.0.0.23 → 203.0.113.50");
    await page.getByTestId("open-in-analyzer").click();
    await page.getByTestId("use-imported-query").click();
    await page.getByTestId("analyzer-range").selectOption("all"); // the EVE sample is dated 2024
    await expect(page).toHaveURL(/range=all/);
    await page.getByTestId("analyze-submit").click();
    await expect(page.getByTestId("analyzer-result")).toContainText("all stored events");
    // the offline network analyst reads the stored flows before answering: seconds on a busy machine
    await expect(page.getByTestId("analyzer-run-status")).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("kpi-flows")).not.toHaveText("0");
    await shot(page, "network-analyzer");
    await page.goto(`${base()}/sites`);
    await expect(page.locator("main")).toContainText("Federation disabled");
    await page.goto(`${base()}/reports`);
    await expect(page.getByTestId("report-row").first().locator("a[data-format=pdf]")).toHaveAttribute("href", /download\?format=pdf$/);
  });
});
