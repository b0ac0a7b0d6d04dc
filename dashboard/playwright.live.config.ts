/** Live browser tests: a real `aurorasoc serve` with real ingested data (tests/live/global-setup.ts). */
import { defineConfig } from "@playwright/test";
import { chromium } from "./playwright.config";

const SOAK = /cps-fleet-soak\.spec\.ts$/;

export default defineConfig({
  testDir: "tests/live",
  outputDir: "test-results/live",
  globalSetup: "./tests/live/global-setup.ts",
  // The CPS soak (its own server, two minutes of mostly waiting) runs beside the other specs, which
  // share the global-setup server and its data and so stay one at a time. The soak is listed first so it
  // starts first (it is the longest).
  workers: 2,
  retries: 0,
  timeout: 60_000,
  // `make test` runs this lane beside three others on two cores: a page can take several seconds to
  // settle, so an assertion waits up to 15 s (a real failure still fails, only later).
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    viewport: { width: 1366, height: 768 },
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  projects: [
    { name: "chromium-live-soak", testMatch: SOAK, workers: 1, use: { browserName: "chromium" } },
    { name: "chromium-live", testIgnore: SOAK, workers: 1, use: { browserName: "chromium" } },
  ],
});
