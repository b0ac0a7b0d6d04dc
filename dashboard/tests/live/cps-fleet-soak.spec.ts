/**
 * Issue #18 finding 9, live: the CPS fleet page stays open for 2 minutes while 50 simulated devices
 * (real MQTT, real P-256 keys, `aurorasoc cps simulate`) report every second. The server runs with
 * the default rate limits, not the lane's raised ones: no 429 may reach the browser, the page never
 * says "Backend not connected" or "Rate limited", and the feed keeps the request count far below
 * the per-minute read budget.
 */
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitHealthy } from "./global-setup";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const AURORASOC = process.env.AURORASOC_BIN ?? join(ROOT, ".venv/bin/aurorasoc");
const DEVICES = 50;
const SOAK_MS = 120_000;
const READ_BUDGET_PER_MIN = 300; // AURORA_RATE_LIMIT_REQUESTS default

let server: ChildProcess;
let simulator: ChildProcess | undefined;
let dataDir: string;
let base: string;
let adminPassword: string;

async function json(path: string, init: RequestInit & { token?: string } = {}): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  const response = await fetch(`${base}${path}`, { ...init, headers });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

test.beforeAll(async () => {
  test.setTimeout(180_000); // start-up (up to 90 s) and the whole fleet reporting (up to 60 s)
  dataDir = mkdtempSync(join(tmpdir(), "aurora-cps-soak-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AURORA_DATA_DIR: dataDir,
    AURORA_MODE: "real",
    AURORA_LOG_LEVEL: "WARNING",
    AURORA_SCHEDULER_ENABLED: "false",
    MQTT_ENABLED: "true",
    MQTT_HOST: "127.0.0.1",
    MQTT_PORT: "1883",
    MQTT_TLS: "false",
    MQTT_CLIENT_ID: `aurorasoc-cps-soak-${process.pid}`,
    // Its own topics on the shared broker: make test runs this lane beside the Python MQTT tests,
    // which count every message on the default namespace's topics.
    AURORA_NAMESPACE: "livesoak",
  };
  for (const key of Object.keys(env)) if (key.startsWith("AURORA_RATE_LIMIT") || key.startsWith("AURORA_OIDC")) delete env[key];
  delete env.AURORA_ADMIN_PASSWORD;
  const port = await freePort();
  server = spawn(AURORASOC, ["serve", "--port", String(port)], { env, stdio: ["ignore", "ignore", "inherit"] });
  base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, server);
  adminPassword = readFileSync(join(dataDir, "secrets/initial_admin_password"), "utf8").trim();
  const { access_token: token } = await json("/api/v1/auth/token", {
    method: "POST", body: JSON.stringify({ username: "admin", password: adminPassword }),
  });
  const { api_key: apiKey } = await json("/api/v1/auth/api-keys", {
    method: "POST", token: String(token),
    body: JSON.stringify({ service_name: "cps-soak-simulator", permissions: ["cps:read", "cps:write"] }),
  });
  const prefix = `soak${process.pid}`;
  simulator = spawn(AURORASOC, ["cps", "simulate", "-n", String(DEVICES), "--duration", "240", "--prefix", prefix,
    "--broker", "127.0.0.1:1883", "--api", base, "--api-key", String(apiKey)], { env, stdio: ["ignore", "ignore", "inherit"] });
  await expect.poll(async () => Number((await json("/api/v1/cps/fleet/summary", { token: String(token) })).total),
    { timeout: 60_000 }).toBe(DEVICES);
});

test.afterAll(async () => {
  for (const proc of [simulator, server]) {
    if (!proc || proc.exitCode !== null) continue;
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test("the CPS fleet page stays live for 2 minutes with 50 devices: no 429, never 'Backend not connected'", async ({ page }) => {
  test.setTimeout(SOAK_MS + 90_000);
  const statuses: Record<number, number> = {};
  let apiRequests = 0;
  page.on("response", (response) => {
    if (!response.url().startsWith(`${base}/api/`)) return;
    apiRequests += 1;
    statuses[response.status()] = (statuses[response.status()] ?? 0) + 1;
  });
  await page.goto(`${base}/login?next=%2Fcps`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/cps`);
  await expect(page.getByTestId("fleet-summary")).toContainText(`Devices${DEVICES}`);
  await expect(page.getByTestId("device-row").first()).toBeVisible();

  const started = Date.now();
  const seen = new Set<string>();
  while (Date.now() - started < SOAK_MS) {
    await expect(page.getByTestId("backend-offline")).toHaveCount(0);
    await expect(page.getByTestId("rate-limited")).toHaveCount(0);
    await expect(page.getByTestId("fleet-summary")).toBeVisible();
    seen.add(await page.getByTestId("devices-table").innerText());
    await page.waitForTimeout(5_000);
  }
  const perMinute = (apiRequests * 60_000) / (Date.now() - started);
  console.log(`CPS soak: ${apiRequests} API requests in ${Math.round((Date.now() - started) / 1000)} s ` +
    `(${perMinute.toFixed(0)}/min), statuses ${JSON.stringify(statuses)}, ${seen.size} distinct device tables`);
  expect(statuses[429] ?? 0).toBe(0);
  expect(perMinute).toBeLessThan(READ_BUDGET_PER_MIN / 2);
  expect(seen.size).toBeGreaterThan(1); // the live feed kept the page moving (telemetry, risk, last seen)
});
