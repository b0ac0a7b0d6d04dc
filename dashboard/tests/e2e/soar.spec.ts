/** SOAR: playbook list + YAML + validation, executions with SIMULATED steps, previewed then real runs. */
import { EXECUTION, PLAYBOOK, PLAYBOOK_PREVIEW } from "./support/fixtures";
import { expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const RESPONDER = { username: "resp", role: "operator", permissions: ["playbooks:read", "playbooks:write", "playbooks:execute"] } satisfies MockUser;

test.beforeEach(async ({ page }) => {
  await mockSession(page, { user: RESPONDER });
  await mockMode(page, "real");
});

test("playbook YAML is shown and validated as text/yaml; problems carry their line", async ({ page }) => {
  await mockJson(page, "**/api/v1/playbooks?*", pageOf([PLAYBOOK]));
  let sent = { type: "", body: "" };
  await page.route("**/api/v1/playbooks/validate", (route) => {
    sent = { type: route.request().headers()["content-type"], body: route.request().postData() ?? "" };
    const body = sent.body.includes("isolate_hots")
      ? { valid: false, name: null, steps: 0, errors: [{ field: "steps.0.action", line: 8, message: "unknown action 'isolate_hots'" }] }
      : { valid: true, name: "malware-response", steps: 1, errors: [] };
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto("/soar");
  await page.getByTestId("playbook-row").filter({ hasText: "malware-response" }).click();
  const yaml = page.getByTestId("playbook-yaml");
  await expect(yaml).toHaveValue(/action: isolate_host/);
  await page.getByTestId("validate-playbook").click();
  await expect(page.getByTestId("validation-result")).toHaveText("Valid: malware-response, 1 step(s)");
  expect(sent.type).toBe("text/yaml");
  await yaml.fill(PLAYBOOK.source_yaml.replace("isolate_host", "isolate_hots"));
  await page.getByTestId("validate-playbook").click();
  await expect(page.getByTestId("validation-result")).toHaveAttribute("data-valid", "false");
  await expect(page.getByTestId("validation-result")).toContainText("steps.0.action (line 8): unknown action 'isolate_hots'");
  await snap(page, "mocked-soar-playbooks");
});

test("execute: preview the effects first, then run and see the per-step result", async ({ page }) => {
  await mockJson(page, "**/api/v1/playbooks?*", pageOf([PLAYBOOK]));
  const calls: string[] = [];
  await page.route(`**/api/v1/playbooks/${PLAYBOOK.id}/execute*`, (route) => {
    const preview = new URL(route.request().url()).searchParams.get("preview") === "true";
    calls.push(preview ? "preview" : "execute");
    const body = preview ? PLAYBOOK_PREVIEW : { ...EXECUTION, status: "awaiting_approval", steps: [{ ...EXECUTION.steps[0], status: "awaiting_approval", output: null, approval_id: "a1" }] };
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
  });
  await page.goto("/soar");
  await page.getByTestId("playbook-row").first().click();
  await page.getByTestId("run-playbook-open").click();
  await page.getByTestId("playbook-preview-button").click();
  const steps = page.getByTestId("preview-step");
  await expect(steps).toHaveCount(2);
  await expect(steps.first()).toContainText("required");
  await expect(steps.first().getByTestId("simulated-label")).toHaveText("SIMULATED");
  await page.getByTestId("playbook-execute").click();
  await expect(page.getByTestId("execution-result")).toContainText("Execution awaiting_approval");
  await expect(page.getByTestId("execution-result").getByRole("link", { name: "approval pending" })).toBeVisible();
  expect(calls).toEqual(["preview", "execute"]);
});

test("executions tab: per-step status with SIMULATED connector results", async ({ page }) => {
  await mockJson(page, "**/api/v1/executions?*", pageOf([EXECUTION]));
  await page.goto("/soar?tab=executions");
  const row = page.getByTestId("execution-row");
  await expect(row).toContainText("malware-response");
  await expect(row).toContainText("2/3 done");
  await row.click();
  const steps = page.getByTestId("execution-step");
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0).getByTestId("simulated-label")).toBeVisible();
  await expect(steps.nth(1)).toContainText("skipped");
  await expect(steps.nth(1).getByTestId("simulated-label")).toHaveCount(0);
  await snap(page, "mocked-soar-executions");
});

test("dry_run: runs are offered as previews only, saving is blocked", async ({ page }) => {
  await mockMode(page, "dry_run");
  await mockJson(page, "**/api/v1/playbooks?*", pageOf([PLAYBOOK]));
  await mockJson(page, `**/api/v1/playbooks/${PLAYBOOK.id}/execute?preview=true`, { ...PLAYBOOK_PREVIEW, mode: "dry_run" });
  await page.goto("/soar");
  await page.getByTestId("playbook-row").first().click();
  await expect(page.getByTestId("save-playbook")).toBeDisabled();
  await expect(page.getByTestId("playbook-yaml")).toHaveAttribute("readonly", "");
  await page.getByRole("button", { name: "Preview: Run…" }).click();
  await page.getByRole("button", { name: "Preview: Execute" }).click();
  await expect(page.getByTestId("playbook-preview")).toContainText("Preview (dry_run) — nothing was run");
});

test("empty: 'No playbooks configured' and automation rules say none", async ({ page }) => {
  await mockJson(page, "**/api/v1/playbooks?*", pageOf([]));
  await mockJson(page, "**/api/v1/automation-rules?*", pageOf([]));
  await page.goto("/soar");
  await expect(page.getByTestId("empty-state")).toHaveText("No playbooks configured");
  await expect(page.getByTestId("new-playbook")).toBeEnabled();
  await page.getByRole("tab", { name: "Automation rules" }).click();
  await expect(page.getByTestId("empty-state")).toHaveText("No automation rules");
});
