/** Firmware: bundle registry, signed upload (multipart), rollout stages and actions, runtime states. */
import type { Page } from "@playwright/test";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const OPERATOR = { username: "ops", role: "admin", permissions: ["firmware:read", "firmware:update"] } satisfies MockUser;
const READER = { username: "eng", role: "operator", permissions: ["firmware:read"] } satisfies MockUser;
const NOW = new Date().toISOString();

const BUNDLE = {
  id: "6b1f0c1e-1111-4a3b-9c1d-000000000001", version: "1.5.0", target_device_type: "door_controller",
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", signature_hex: "ab".repeat(64),
  signature_valid: true, size: 1_572_864, uploaded_by: "alice", created_at: NOW,
};
const ROLLOUT = {
  id: "6b1f0c1e-2222-4a3b-9c1d-000000000002", bundle_id: BUNDLE.id, bundle_version: "1.5.0", target_device_type: "door_controller",
  target_devices: Array.from({ length: 20 }, (_, i) => `door-${i}`), updated_devices: ["door-0", "door-1", "door-2", "door-3", "door-4"],
  stage: 25, status: "running", stage_started_at: NOW, pause_reason: null, created_by: "alice", created_at: NOW, updated_at: NOW,
  allowed_actions: ["advance", "pause", "rollback"], delivery_simulated: true,
};
const PAUSED = {
  ...ROLLOUT, id: "6b1f0c1e-3333-4a3b-9c1d-000000000003", stage: 5, status: "paused", updated_devices: ["door-0"],
  pause_reason: "updated device door-0 failed attestation", allowed_actions: ["start", "rollback"],
};

async function mockRegistry(page: Page, bundles: unknown[], rollouts: unknown[]): Promise<void> {
  await mockJson(page, "**/api/v1/firmware/bundles?*", pageOf(bundles));
  await mockJson(page, "**/api/v1/firmware/rollouts?*", pageOf(rollouts));
}

test("bundles and rollouts: stage progress, SIMULATED delivery, advance and signed upload", async ({ page }) => {
  await mockSession(page, { user: OPERATOR });
  await mockMode(page, "real");
  await mockRegistry(page, [BUNDLE], [ROLLOUT, PAUSED]);
  let advanced = false;
  await page.route(`**/api/v1/firmware/rollouts/${ROLLOUT.id}/advance`, (route) => {
    advanced = true;
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ ...ROLLOUT, stage: 50 }) });
  });
  let upload: { type: string; body: string } | null = null;
  await page.route("**/api/v1/firmware/bundles", (route) => {
    upload = { type: route.request().headers()["content-type"] ?? "", body: route.request().postData() ?? "" };
    return route.fulfill({ status: 201, contentType: "application/json", body: JSON.stringify({ ...BUNDLE, version: "1.6.0" }) });
  });
  await page.goto("/firmware");
  const bundle = page.getByTestId("bundle-row");
  await expect(bundle).toContainText("1.5.0");
  await expect(bundle).toContainText("9f86d081884c7d65…");
  await expect(bundle).toContainText("1.5 MiB");
  await expect(bundle.getByTestId("bundle-signature")).toHaveText("✓ valid");
  const [running, paused] = await page.getByTestId("rollout-row").all();
  await expect(running.getByTestId("rollout-stage")).toHaveAttribute("data-stage", "25");
  await expect(running).toContainText("5 / 20");
  await expect(running.getByTestId("simulated-label")).toHaveText("SIMULATED");
  await expect(paused.getByTestId("pause-reason")).toHaveText("updated device door-0 failed attestation");
  await expect(paused.getByTestId("rollout-advance")).toHaveCount(0);
  await expect(paused.getByTestId("rollout-start")).toBeEnabled();
  await snap(page, "mocked-firmware");

  await running.getByTestId("rollout-advance").click();
  await expect.poll(() => advanced).toBe(true);

  await page.getByTestId("upload-bundle").click();
  const form = page.getByTestId("upload-form");
  await form.getByLabel("Version").fill("1.6.0");
  await form.getByLabel("Device type").fill("door_controller");
  await form.getByLabel("Ed25519 signature (hex)").fill("cd".repeat(64));
  await page.getByTestId("upload-file").setInputFiles({ name: "door-1.6.0.bin", mimeType: "application/octet-stream", buffer: Buffer.from("firmware") });
  await page.getByTestId("upload-submit").click();
  await expect.poll(() => upload?.type ?? "").toContain("multipart/form-data");
  expect(upload!.body).toContain('name="signature"');
  expect(upload!.body).toContain("cd".repeat(64));
  expect(upload!.body).toContain('filename="door-1.6.0.bin"');
  await expect(form).toHaveCount(0);
});

test("empty registry and dry_run: read-only actions explain why", async ({ page }) => {
  await mockSession(page, { user: OPERATOR });
  await mockMode(page, "real");
  await mockRegistry(page, [], []);
  await page.goto("/firmware");
  await expect(page.getByTestId("empty-state").first()).toHaveText("No firmware bundles");
  await expect(page.getByTestId("upload-bundle")).toBeEnabled();

  await mockMode(page, "dry_run");
  await mockRegistry(page, [BUNDLE], [ROLLOUT]);
  await page.reload();
  await expect(page.getByTestId("runtime-banner")).toContainText("Dry run");
  await expect(page.getByTestId("upload-bundle")).toBeDisabled();
  await expect(page.getByTestId("rollout-pause")).toBeDisabled();
  await expect(page.getByTestId("rollout-row").getByTestId("readonly-reason").first()).toHaveAttribute("title", "Dry run — actions are previews");
});

test("a reader sees no write actions; a 503 shows the unavailable state", async ({ page }) => {
  await mockSession(page, { user: READER });
  await mockMode(page, "real");
  await mockRegistry(page, [BUNDLE], [ROLLOUT]);
  await page.goto("/firmware");
  await expect(page.getByTestId("rollout-row")).toContainText("running");
  await expect(page.getByTestId("upload-bundle")).toHaveCount(0);
  await expect(page.getByTestId("new-rollout")).toHaveCount(0);
  await expect(page.getByTestId("rollout-advance")).toHaveCount(0);

  await mockMode(page, "real", false);
  await mockJson(page, "**/api/v1/firmware/bundles?*", UNAVAILABLE, 503);
  await mockJson(page, "**/api/v1/firmware/rollouts?*", UNAVAILABLE, 503);
  await page.reload();
  await expect(page.getByTestId("data-unavailable")).toContainText("Firmware registry unavailable");
  await expect(page.getByTestId("rollouts-table")).toHaveCount(0);
});
