/** Issue #18 finding 9: a 429 reads as "rate limited, retrying in N s" and is retried; never "Backend not connected". */
import { expect, mockJson, mockMode, mockSession, page as pageOf, test } from "./support/mockApi";

const RATE_LIMITED = { detail: { code: "rate_limited", message: "Rate limit exceeded", retry_after: 2, class: "read" } };

test("a 429 at boot is retried after Retry-After and shown as rate limited, not as an offline backend", async ({ page }) => {
  await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read"] } });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/alerts?*", pageOf([]));
  let calls = 0;
  await page.route("**/api/v1/users/me", async (route) => {
    calls += 1;
    if (calls > 1) return route.fallback();
    return route.fulfill({ status: 429, headers: { "Retry-After": "2" }, contentType: "application/json", body: JSON.stringify(RATE_LIMITED) });
  });
  await page.goto("/alerts");
  await expect(page.getByTestId("rate-limited")).toHaveText(/^Rate limited, retrying in [12] s$/);
  await expect(page.getByTestId("backend-offline")).toHaveCount(0);
  await expect(page.getByTestId("user-menu")).toContainText("ana", { timeout: 10_000 });
  await expect(page.getByTestId("rate-limited")).toHaveCount(0, { timeout: 5_000 });
  expect(calls).toBe(2);
});

test("a 429 on a page's data keeps the page and retries it", async ({ page }) => {
  await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read"] } });
  await mockMode(page, "real");
  let calls = 0;
  await page.route("**/api/v1/alerts?*", async (route) => {
    calls += 1;
    if (calls === 1) {
      return route.fulfill({ status: 429, headers: { "Retry-After": "1" }, contentType: "application/json", body: JSON.stringify(RATE_LIMITED) });
    }
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf([])) });
  });
  await page.goto("/alerts");
  await expect(page.getByTestId("rate-limited")).toBeVisible();
  await expect(page.getByTestId("backend-offline")).toHaveCount(0);
  await expect.poll(() => calls, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("user-menu")).toBeVisible();
});

test("a 503 server_busy (load shedding) is retried after Retry-After and shown as busy, not as an offline backend", async ({ page }) => {
  await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read"] } });
  await mockMode(page, "real");
  const busy = { detail: { code: "server_busy", message: "Too many expensive requests; retry shortly" } };
  let calls = 0;
  await page.route("**/api/v1/alerts?*", async (route) => {
    calls += 1;
    if (calls === 1) {
      return route.fulfill({ status: 503, headers: { "Retry-After": "1" }, contentType: "application/json", body: JSON.stringify(busy) });
    }
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf([])) });
  });
  await page.goto("/alerts");
  await expect(page.getByTestId("rate-limited")).toHaveText(/^Server busy, retrying in 1 s$/);
  await expect(page.getByTestId("backend-offline")).toHaveCount(0);
  await expect.poll(() => calls, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("rate-limited")).toHaveCount(0, { timeout: 5_000 });
});
