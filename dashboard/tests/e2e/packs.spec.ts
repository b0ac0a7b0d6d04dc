/** Detections → Packs (issue #16): installed packs with licence and policy, update, roll back, rule activity;
 * "Suppress similar" on an alert creates a rule exception. */
import { ALERT_DETAIL } from "./support/fixtures";
import { expect, mockJson, mockMode, mockSession, snap, test, type MockUser } from "./support/mockApi";

const now = new Date().toISOString();
const PACK = {
  name: "sigmahq", version: 2, source: "https://example.org/sigma_all_rules.zip", sha256: "ab".repeat(32),
  license: "Detection Rule License (DRL) 1.1", attribution: "Sigma rules by the SigmaHQ project and its contributors",
  statuses: ["stable", "test"], min_level: "low", rule_count: 2407, compiled: 2407, failures: [],
  installed_by: "admin", created_at: now, updated_at: now,
};
const STATS = {
  days: ["2026-12-05", "2026-12-06"],
  noisiest: [{ rule_uid: "r1", title: "Member Added to Local Administrators", enabled: true, hit_count: 7, last_hit_at: now, per_day: [3, 4], in_window: 7 }],
  never_fired: 2310, never_fired_rules: [],
};
const ENGINEER = { username: "eng", role: "analyst", permissions: ["siem:read", "alerts:read", "detections:write"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockMode(page, "real");
  await mockSession(page, { user: ENGINEER });
  await mockJson(page, "**/api/v1/detections/rule-stats?*", STATS);
});

test("packs show version, licence and policy; update reports what compiled; policy and rollback post", async ({ page }) => {
  await mockJson(page, "**/api/v1/detections/packs", [PACK]);
  let updateBody: { source?: string | null } = {};
  await page.route("**/api/v1/detections/packs/update", (route) => {
    updateBody = route.request().postDataJSON();
    const report = { name: "sigmahq", version: 3, rules: 20, compiled: 19, compile_ratio: 0.95, added: 1, updated: 0, removed: 0,
      failures: [["rules/x.yml", "unknown modifier"]], skipped: [] };
    return route.fulfill({ status: 200, json: report });
  });
  let policy: { statuses?: string[]; min_level?: string } = {};
  await page.route("**/api/v1/detections/packs/sigmahq/policy", (route) => {
    policy = route.request().postDataJSON();
    return route.fulfill({ status: 200, json: { ...PACK, ...policy } });
  });
  let rolledBack = 0;
  await page.route("**/api/v1/detections/packs/sigmahq/rollback", (route) => {
    rolledBack += 1;
    return route.fulfill({ status: 200, json: { name: "sigmahq", version: 1, rules: 2407, compiled: 2407, compile_ratio: 1, added: 0, updated: 0, removed: 0, failures: [], skipped: [] } });
  });
  await page.goto("/detections/packs");
  await expect(page.getByTestId("packs-table")).toContainText("2407 / 2407");
  await expect(page.getByTestId("packs-table")).toContainText("SigmaHQ project");
  await expect(page.getByTestId("noisiest-rules")).toContainText("3 4");
  await expect(page.getByTestId("never-fired")).toContainText("2310 enabled rules never fired");
  await page.getByTestId("pack-source").fill("http://127.0.0.1:9/rules.zip");
  await page.getByTestId("update-pack").click();
  await expect(page.getByTestId("pack-report")).toContainText("19 of 20 rules compiled");
  await expect(page.getByTestId("pack-report")).toContainText("rules/x.yml: unknown modifier");
  expect(updateBody.source).toBe("http://127.0.0.1:9/rules.zip");
  await page.getByTestId("status-test").uncheck();
  await page.getByTestId("min-level").selectOption("high");
  await page.getByTestId("save-policy").click();
  await expect.poll(() => policy.min_level).toBe("high");
  expect(policy.statuses).toEqual(["stable"]);
  await page.getByTestId("rollback-pack").click();
  await expect.poll(() => rolledBack).toBe(1);
  await snap(page, "detections-packs");
});

test("no pack installed says what runs and how to add SigmaHQ", async ({ page }) => {
  await mockJson(page, "**/api/v1/detections/packs", []);
  await page.goto("/detections/packs");
  await expect(page.getByTestId("empty-state")).toContainText("aurorasoc rules update");
});

test("suppress similar on an alert creates a rule exception with the reason", async ({ page }) => {
  const alert = { ...ALERT_DETAIL, metadata: { rule_uid: "c4b2b02b-28e0-52ee-930a-884b6c738856", log_ids: ["l1"] } };
  await mockJson(page, `**/api/v1/alerts/${alert.id}`, alert);
  let body: { reason?: string } = {};
  await page.route(`**/api/v1/detections/exceptions/from-alert/${alert.id}`, (route) => {
    body = route.request().postDataJSON();
    return route.fulfill({ status: 201, json: { id: "e1", rule_uid: alert.metadata.rule_uid, conditions: { EventID: 4732, TargetUserName: "Administrators" },
      host: "WIN-DC01", owner: "eng", reason: body.reason, expires_at: null, source_alert_id: alert.id, created_at: now } });
  });
  page.once("dialog", (dialog) => void dialog.accept("lab machine"));
  await page.goto(`/alerts/${alert.id}`);
  await page.getByTestId("suppress-similar").click();
  await expect(page.getByText("Exception created: EventID, TargetUserName on WIN-DC01")).toBeVisible();
  expect(body.reason).toBe("lab machine");
});
