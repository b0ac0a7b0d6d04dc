// First-page render of /alerts in the system Chromium, driven by bench/console_alerts.py.
// Usage: node render-alerts.mjs BASE_URL USERNAME PASSWORD RUNS  → prints one JSON line.
import { chromium } from "@playwright/test";

const [base, username, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

async function measure(page) {
  await page.getByTestId("alert-row").first().waitFor();
  return page.evaluate(() => {
    const api = performance.getEntriesByType("resource").find((e) => e.name.includes("/api/v1/alerts?"));
    return { render: performance.now(), api: api ? api.duration : null, rows: document.querySelectorAll("[data-testid=alert-row]").length };
  });
}

// Sign in once (the login rate limit would refuse one sign-in per run); every run still gets a
// fresh context, so its HTTP cache is empty ("cold"), carrying only the session cookie.
const loginContext = await browser.newContext();
const login = await loginContext.request.post(`${base}/api/v1/auth/token`, { data: { username, password } });
if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
const storageState = await loginContext.storageState();
await loginContext.close();

const cold = [];
const warm = [];
for (let i = 0; i < runs; i += 1) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, storageState });
  const page = await context.newPage();
  await page.goto(`${base}/alerts`, { waitUntil: "commit" });
  cold.push(await measure(page));
  await page.reload({ waitUntil: "commit" });
  warm.push(await measure(page));
  await context.close();
}
await browser.close();
console.log(JSON.stringify({ cold, warm }));
