/** Mocked browser tests against `vite preview` of the production build (spec §24.4). */
import { defineConfig } from "@playwright/test";

export const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
};

// Another checkout's preview may hold the default port; PREVIEW_PORT gives this run its own.
const PORT = process.env.PREVIEW_PORT ?? "4173";

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: "test-results/mocked",
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 20_000,
  // `make test` runs this lane beside three others on two cores: a page can take several seconds to
  // settle, so an assertion waits up to 15 s (a real failure still fails, only later).
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1366, height: 768 },
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  projects: [{ name: "chromium-mocked", use: { browserName: "chromium" } }],
  webServer: {
    command: `npm run preview -- --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 30_000,
  },
});
