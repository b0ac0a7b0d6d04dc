/** What every live spec needs: the server it runs against, the shared data, signing in, screenshots. */
import { expect, type Page, type TestInfo } from "@playwright/test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const SHARED = process.env.AURORA_SHARED_DATA ?? resolve(ROOT, "../shared/data");
export const base = () => process.env.LIVE_BASE_URL!;

export async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${base()}${path}`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(process.env.LIVE_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Username")).toHaveCount(0);
}

/** A full-page screenshot under this test's own output directory, once the page has loaded. */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  await expect(page.getByTestId("loading-skeleton")).toHaveCount(0);
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}
