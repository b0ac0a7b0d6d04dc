/**
 * Single sign-on against a real OpenID provider (oidc-provider-mock, started by global-setup):
 * the login page offers the provider from /auth/providers, the code flow with PKCE runs through the
 * provider's own consent page, and the console opens where the user was headed, with the role the
 * `groups` claim maps to. Signing out ends the provider's session too; replaying the provider's
 * answer afterwards is refused.
 */
import { expect, test } from "@playwright/test";
import { SSO_USER } from "./support/oidc-provider";

const base = () => process.env.LIVE_BASE_URL!;

test("signs in through the local OIDC provider and lands on the console with the mapped role", async ({ page }) => {
  const callbacks: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/v1/auth/oidc/callback")) callbacks.push(request.url());
  });
  await page.goto(`${base()}/cases`);
  await expect(page).toHaveURL(/\/login\?next=%2Fcases/);
  await page.getByTestId("sso-button").click();
  await expect(page).toHaveURL(new RegExp(`^${process.env.LIVE_OIDC_ISSUER}/oauth2/authorize\\?`));
  await page.getByRole("button", { name: SSO_USER.sub, exact: true }).click();

  await expect(page).toHaveURL(`${base()}/cases`);
  await expect(page.getByTestId("user-menu")).toHaveText(`${SSO_USER.username} (${SSO_USER.role})`);
  await page.getByTestId("user-menu").click();
  await expect(page.getByText("oidc", { exact: true })).toBeVisible();

  // Sign out: the local session is revoked, then the provider's session ends and we are back at login.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(new RegExp(`^${process.env.LIVE_OIDC_ISSUER}/oauth2/end_session\\?`));
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page).toHaveURL(`${base()}/login`);
  expect((await page.context().cookies()).some((c) => c.name === "access_token")).toBe(false);

  // The provider's redirect, replayed: no second session, the login page says why.
  expect(callbacks).toHaveLength(1);
  await page.context().clearCookies();
  await page.goto(callbacks[0]);
  await expect(page).toHaveURL(/\/login\?sso_error=/);
  await expect(page.getByTestId("sso-error")).toBeVisible();
});
