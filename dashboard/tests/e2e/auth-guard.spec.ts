/** Boot: providers → users/me (401 → /login) → system/mode; OIDC button; offline backend. */
import { LOCAL_PROVIDER, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test } from "./support/mockApi";

test("401 from users/me redirects to login with the page to return to", async ({ page }) => {
  await mockSession(page, { user: null });
  await page.goto("/cases?status=open");
  await expect(page).toHaveURL(/\/login\?next=%2Fcases%3Fstatus%3Dopen$/);
  await expect(page.getByLabel("Username")).toBeVisible();
  await snap(page, "mocked-login");
});

test("OIDC provider is offered as an SSO button", async ({ page }) => {
  const oidc = { id: "oidc", type: "oidc" as const, name: "Corp SSO", login_url: "/api/v1/auth/oidc/login" };
  await mockSession(page, { user: null, providers: [LOCAL_PROVIDER, oidc] });
  await page.goto("/login");
  const sso = page.getByTestId("sso-button");
  await expect(sso).toHaveText("Sign in with Corp SSO");
  await expect(sso).toHaveAttribute("href", "/api/v1/auth/oidc/login?next=%2F"); // back to where sign-in began
});

test("signing in posts credentials and lands on the next page", async ({ page }) => {
  await mockSession(page, { user: null });
  let posted: unknown = null;
  await page.route("**/api/v1/auth/token", async (route) => {
    posted = route.request().postDataJSON();
    await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read"] } });
    await mockMode(page, "real");
    await mockJson(page, "**/api/v1/alerts?*", pageOf([]));
    await route.fulfill({ status: 200, contentType: "application/json", body: '{"access_token":"t","token_type":"bearer","expires_in":3600}' });
  });
  await page.goto("/login?next=%2Falerts");
  await page.getByLabel("Username").fill("ana");
  await page.getByLabel("Password").fill("secret");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(page.getByTestId("empty-state")).toHaveText("No alerts match these filters");
  expect(posted).toEqual({ username: "ana", password: "secret" });
});

test("wrong password is reported without leaving the login page", async ({ page }) => {
  await mockSession(page, { user: null });
  await mockJson(page, "**/api/v1/auth/token", { detail: "Invalid username or password" }, 401);
  await page.goto("/login");
  await page.getByLabel("Username").fill("ana");
  await page.getByLabel("Password").fill("nope");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Invalid username or password");
  await expect(page).toHaveURL(/\/login$/);
});

test("a backend that does not answer shows 'Backend not connected'", async ({ page }) => {
  await mockJson(page, "**/api/v1/auth/providers", { providers: [LOCAL_PROVIDER] });
  await page.route("**/api/v1/users/me", (route) => route.abort("connectionrefused"));
  await page.goto("/alerts");
  await expect(page.getByTestId("backend-offline")).toContainText("Backend not connected");
  await expect(page.getByTestId("retry-button")).toBeVisible();
});

test("a failed background refresh of users/me keeps the console and what was typed", async ({ page }) => {
  await page.clock.install();
  await mockSession(page, { user: { username: "ana", role: "analyst", permissions: ["alerts:read", "agents:read", "agents:dispatch"] } });
  await mockMode(page, "real");
  await mockJson(page, "**/api/v1/agents/network_security", { detail: "not mocked" }, 404);
  await page.goto("/network/analyzer");
  await page.getByTestId("analyzer-note").fill("typed before the API hiccup");
  let failed = 0;
  await page.route("**/api/v1/users/me", (route) => {
    failed += 1;
    return route.fulfill({ status: 500, contentType: "application/json", body: '{"detail":"database is locked"}' });
  });
  await page.clock.runFor(20_000); // past one poll (15 s)
  await expect.poll(() => failed).toBeGreaterThan(0);
  await expect(page.getByTestId("backend-offline")).toHaveCount(0);
  await expect(page.getByTestId("analyzer-note")).toHaveValue("typed before the API hiccup");
});
