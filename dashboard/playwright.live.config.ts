/** Live browser tests: a real `aurorasoc serve` with real ingested data (tests/live/global-setup.ts). */
import { defineConfig } from "@playwright/test";
import { chromium } from "./playwright.config";

export default defineConfig({
  testDir: "tests/live",
  outputDir: "test-results/live",
  globalSetup: "./tests/live/global-setup.ts",
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    viewport: { width: 1366, height: 768 },
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  projects: [{ name: "chromium-live", use: { browserName: "chromium" } }],
});
