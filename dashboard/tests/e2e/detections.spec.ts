/** Detections: rule YAML in the editor, the test panel against pasted events, save and create. */
import { expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const now = new Date().toISOString();
const YAML = `title: Whoami execution
id: 6f0c5a3e-1b2d-4c5e-9f7a-8b9c0d1e2f3a
level: medium
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\\\whoami.exe'
  condition: selection
`;
const RULE = {
  id: "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a", rule_uid: "6f0c5a3e-1b2d-4c5e-9f7a-8b9c0d1e2f3a", kind: "rule",
  title: "Whoami execution", level: "medium", status: "test", logsource_product: "windows",
  logsource_category: "process_creation", logsource_service: null, tags: ["attack.discovery", "attack.t1033"],
  enabled: true, origin: "custom", supported: true, unsupported_reason: null, hit_count: 3, last_hit_at: now,
  created_by: "analyst", created_at: now, updated_at: now,
};
const BROKEN = { ...RULE, id: "1a2b3c4d-0000-4000-8000-000000000002", title: "Broken rule", supported: false, unsupported_reason: "unknown modifier 'endswithh'" };
const ENGINEER = { username: "eng", role: "analyst", permissions: ["siem:read", "detections:write"] } satisfies MockUser;
const READER = { username: "reader", role: "viewer", permissions: ["siem:read"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/detections/rules?*", pageOf([RULE, BROKEN]));
  await mockJson(page, `**/api/v1/detections/rules/${RULE.id}`, { ...RULE, yaml: YAML });
  await mockJson(page, `**/api/v1/detections/rules/${BROKEN.id}`, { ...BROKEN, yaml: YAML.replace("endswith", "endswithh") });
});

test("rule opens in the editor; the test panel posts its YAML and pasted events", async ({ page }) => {
  await mockSession(page, { user: READER });
  let sent: { yaml?: string; events?: unknown[]; log_ids?: string[] } = {};
  await page.route("**/api/v1/detections/rules/test", (route) => {
    sent = route.request().postDataJSON();
    const body = {
      rules: [{ id: RULE.rule_uid, title: RULE.title, supported: true, reason: null }],
      events: 2, matched: 1,
      results: [
        { index: 0, log_id: null, matches: [{ rule_id: RULE.rule_uid, title: RULE.title, matched_fields: { Image: "C:\\Windows\\System32\\whoami.exe" } }] },
        { index: 1, log_id: null, matches: [] },
      ],
    };
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto("/detections");
  await page.getByTestId("rule-open").filter({ hasText: "Whoami execution" }).click();
  await expect(page.getByTestId("rule-yaml")).toHaveValue(/Image\|endswith/);
  await expect(page.getByTestId("rule-yaml")).toHaveAttribute("readonly", "");
  await expect(page.getByTestId("save-rule")).toHaveCount(0);
  await page.getByTestId("rule-test-events").fill('{"Image": "C:\\\\Windows\\\\System32\\\\whoami.exe"}\n{"Image": "calc.exe"}');
  await page.getByTestId("run-rule-test").click();
  await expect(page.getByTestId("rule-test-result")).toHaveAttribute("data-matched", "1");
  await expect(page.getByTestId("event-result")).toHaveCount(2);
  await expect(page.getByTestId("event-result").first()).toContainText("Whoami execution");
  expect(sent.yaml).toContain("Image|endswith");
  expect(sent.events).toEqual([{ Image: "C:\\Windows\\System32\\whoami.exe" }, { Image: "calc.exe" }]);
  expect(sent.log_ids).toEqual([]);
  await snap(page, "mocked-detections-editor");
});

test("invalid event JSON is reported in the panel without calling the API", async ({ page }) => {
  await mockSession(page, { user: READER });
  let calls = 0;
  await page.route("**/api/v1/detections/rules/test", (route) => { calls += 1; return route.abort(); });
  await page.goto("/detections");
  await page.getByTestId("rule-open").first().click();
  await page.getByTestId("rule-test-events").fill("{not json");
  await page.getByTestId("run-rule-test").click();
  await expect(page.getByTestId("rule-test-error")).toContainText("Events are not valid JSON");
  expect(calls).toBe(0);
});

test("a rule that does not compile shows why", async ({ page }) => {
  await mockSession(page, { user: READER });
  await page.goto("/detections");
  await expect(page.getByTestId("rules-table")).toContainText("no: unknown modifier 'endswithh'");
  await page.getByTestId("rule-open").filter({ hasText: "Broken rule" }).click();
  await expect(page.getByTestId("rule-compile-error")).toContainText("unknown modifier 'endswithh'");
});

test("detections:write saves an edited rule and creates a new one", async ({ page }) => {
  await mockSession(page, { user: ENGINEER });
  const writes: Array<{ method: string; body: { yaml?: string } }> = [];
  await page.route(`**/api/v1/detections/rules/${RULE.id}`, (route) => {
    if (route.request().method() !== "PATCH") return route.fallback();
    writes.push({ method: "PATCH", body: route.request().postDataJSON() });
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ ...RULE, yaml: writes[0].body.yaml }) });
  });
  await page.route("**/api/v1/detections/rules", (route) => {
    writes.push({ method: route.request().method(), body: route.request().postDataJSON() });
    return route.fulfill({ status: 201, contentType: "application/json", body: JSON.stringify({ items: [{ ...RULE, yaml: YAML }] }) });
  });
  await page.goto("/detections");
  await page.getByTestId("rule-open").filter({ hasText: "Whoami execution" }).click();
  await expect(page.getByTestId("save-rule")).toBeDisabled();
  await page.getByTestId("rule-yaml").fill(YAML.replace("level: medium", "level: high"));
  await page.getByTestId("save-rule").click();
  await expect.poll(() => writes.length).toBe(1);
  expect(writes[0].body.yaml).toContain("level: high");
  await page.getByTestId("close-rule-editor").click();
  await page.getByTestId("new-rule").click();
  await expect(page.getByTestId("rule-yaml")).toHaveValue(/title: Whoami execution/);
  await page.getByTestId("save-rule").click();
  await expect.poll(() => writes.length).toBe(2);
  expect(writes[1]).toMatchObject({ method: "POST", body: { yaml: expect.stringContaining("detection:") } });
  await expect(page.getByTestId("rule-editor")).toHaveCount(0);
});

test("dry run: saving is disabled with the reason, testing still works", async ({ page }) => {
  await mockSession(page, { user: ENGINEER });
  await mockMode(page, "dry_run");
  await page.goto("/detections");
  await page.getByTestId("rule-open").first().click();
  await expect(page.getByTestId("rule-yaml")).toHaveAttribute("readonly", "");
  await expect(page.getByTestId("rule-editor").getByTestId("readonly-reason")).toBeVisible();
  await expect(page.getByTestId("save-rule")).toBeDisabled();
  await expect(page.getByTestId("run-rule-test")).toBeEnabled();
});
