/**
 * Ask in words on the SIEM page (issue #19 §7) against a real server with no model configured: a
 * question naming the ingested host becomes `host:MSEDGEWIN10`, shown before anything runs; running
 * it lists that host's events. The guided builder offers stored users and builds their query.
 */
import { expect, test } from "@playwright/test";
import { shot, signIn } from "./support/session";




test("a question becomes a query that is shown first, then runs; the builder uses stored values", async ({ page }, info) => {
  await signIn(page, "/siem");
  await page.getByTestId("range-select").selectOption("all");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("log-row").first()).toBeVisible();

  await page.getByTestId("ask-input").fill("What happened on MSEDGEWIN10?");
  await page.getByTestId("ask-button").click();
  await expect(page.getByTestId("ask-query")).toHaveValue("host:MSEDGEWIN10");
  await expect(page.getByTestId("ask-explanation")).toContainText("offline");
  await expect(page.getByTestId("search-input")).toHaveValue(""); // shown, not run yet
  await shot(page, info, "ask-proposed");
  await page.getByTestId("ask-run").click();
  await expect(page.getByTestId("search-input")).toHaveValue("host:MSEDGEWIN10");
  await expect(page.getByTestId("logs-total")).toHaveText(/^[1-9][\d,]* events$/);
  const rows = page.getByTestId("log-row");
  await expect(rows.first()).toContainText("MSEDGEWIN10");
  await shot(page, info, "ask-ran");

  await page.getByTestId("builder-toggle").click();
  await page.getByTestId("builder-field").selectOption("user_name");
  const user = await page.getByTestId("builder-value").locator("option").nth(1).getAttribute("value");
  expect(user).toBeTruthy();
  await page.getByTestId("builder-value").selectOption(user!);
  await page.getByTestId("builder-add").click();
  await page.getByTestId("builder-build").click();
  await expect(page.getByTestId("ask-query")).toHaveValue(new RegExp(`^user_name:"?${user!.replace(/[\\$.*+?()[\]{}|^]/g, "\\$&")}`));
  await page.getByTestId("ask-run").click();
  await expect(page.getByTestId("logs-total")).toHaveText(/^[1-9][\d,]* events$/);
  await shot(page, info, "builder-ran");
});
