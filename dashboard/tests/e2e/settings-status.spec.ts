/** Settings → System status: dependencies, bus, roles of this process, agents, dead letters. */
import { expect, mockJson, mockMode, mockSession, snap, test, type MockUser } from "./support/mockApi";

const ADMIN = { username: "root", role: "admin", permissions: ["*"] } satisfies MockUser;
const STATUS = {
  health: { status: "ok", version: "0.3.0", mode: "real", database: "up", redis: "up", nats: "down", mqtt: "disabled" },
  bus: "redis-streams",
  roles: ["agents", "detection", "pipeline", "scheduler"],
  agents: { backend: "llama3.1", a2a_mode: "embedded", open_circuits: ["threat_hunter"] },
  dead_letters: { "aurora:dead_letter": 3, "aurora:agent:dead_letter": 0 },
};

test("status tab shows what this process runs and what is down", async ({ page }) => {
  await mockSession(page, { user: ADMIN });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/system/status", STATUS);
  await page.goto("/settings?tab=status");
  const panel = page.getByTestId("status-panel");
  await expect(panel.getByTestId("dependency-nats")).toHaveText("down");
  await expect(panel.getByTestId("status-roles")).toHaveText("agents, detection, pipeline, scheduler");
  await expect(panel).toContainText("redis-streams");
  await expect(panel).toContainText("threat_hunter");
  await expect(panel).toContainText("llama3.1 (embedded)");
  await snap(page, "mocked-settings-status");
});

test("an in-process bus says dead letters are not kept", async ({ page }) => {
  await mockSession(page, { user: ADMIN });
  await mockMode(page, "real");
  const inProcess = { ...STATUS, bus: "in-process", dead_letters: { "aurora:dead_letter": null, "aurora:agent:dead_letter": null } };
  await mockJson(page, "**/api/v1/system/status", inProcess);
  await page.goto("/settings?tab=status");
  await expect(page.getByTestId("status-panel")).toContainText("not kept (in-process bus)");
});
