/**
 * In-page API mocks for the console's browser tests (spec §24.4).
 *
 * The `test` exported here installs a catch-all on `/api/v1/**` before the spec runs: anything a
 * spec did not mock is answered 599 and recorded, and after each test `unmocked` must be empty.
 * Playwright consults the most recently added route first, so spec mocks override the catch-all.
 */
import { test as base, expect, type Page } from "@playwright/test";
import type { Schemas } from "./schema";

/** `/users/me` as the specs state it: auth_provider defaults to "local". */
export type MockUser = Omit<Schemas["Me"], "auth_provider"> & Partial<Pick<Schemas["Me"], "auth_provider">>;
export type Provider = Schemas["Provider"];
export type ModeName = Schemas["RuntimeMode"];

const DESCRIPTIONS: Record<ModeName, string> = {
  dummy: "Dummy mode is active. Showcase behaviour; all changes are blocked.",
  dry_run: "Dry run mode is active. Live reads; operator actions are previews.",
  real: "Real mode is active. Live operations and response actions are enabled.",
};

/** The exact `/system/mode` body of spec §6 for a mode and database state. */
export function modeBody(mode: ModeName, databaseAvailable = true): Schemas["SystemMode"] {
  const mutations = mode === "real";
  return {
    mode,
    description: DESCRIPTIONS[mode],
    is_read_only: !mutations,
    is_mutations_allowed: mutations,
    is_external_actions_allowed: mutations,
    is_database_available: databaseAvailable,
    showcase_reads_allowed: mode === "dummy",
    uses_showcase_data: mode === "dummy" && !databaseAvailable,
    read_data_source: databaseAvailable ? "database" : mode === "dummy" ? "showcase" : "unavailable",
  };
}

export const LOCAL_PROVIDER: Provider = { id: "local", type: "local", name: "Username and password" };

export async function mockJson(page: Page, pattern: string, body: unknown, status = 200): Promise<void> {
  await page.route(pattern, (route) =>
    route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) }),
  );
}

/** Providers first, then users/me: the auth guard's first two calls. */
export async function mockSession(
  page: Page,
  { user, providers = [LOCAL_PROVIDER] }: { user: MockUser | null; providers?: Provider[] },
): Promise<void> {
  await mockJson(page, "**/api/v1/auth/providers", { default: "local", providers } satisfies Schemas["ProvidersResponse"]);
  if (user === null) {
    await mockJson(page, "**/api/v1/users/me", { detail: "Not authenticated" }, 401);
    return;
  }
  await mockJson(page, "**/api/v1/users/me", { auth_provider: "local", ...user });
  await mockEvidenceDefaults(page);
}

/**
 * The evidence reads every alert, case and SIEM page makes (spec §27) answer "nothing recorded" unless
 * a spec mocks them itself (a later route wins): an alert without stored evidence (404), a case without
 * alerts (and its empty summary), an empty histogram and no facets.
 */
export async function mockEvidenceDefaults(page: Page): Promise<void> {
  await mockJson(page, "**/api/v1/alerts/*/evidence", { detail: "no evidence recorded" }, 404);
  await mockJson(page, "**/api/v1/cases/*/evidence-summary", {
    alert_count: 0, event_time_start: null, event_time_end: null, tactic_chain: [],
    entities: { hosts: [], users: [], processes: [], ips: [] }, links: [], summary: "The case has no alerts yet.",
  });
  await mockJson(page, "**/api/v1/cases/*/summary", {
    text: "No alerts in this case yet.", alert_count: 0, hosts: [], users: [], techniques: [], processes: [],
    indicators: [], computed_at: "2026-01-01T00:00:00Z", backend: "offline",
  });
  await mockJson(page, "**/api/v1/siem/histogram?*", { bucket_seconds: null, buckets: [] });
  await mockJson(page, "**/api/v1/siem/facets?*", { host: [], user_name: [], src_ip: [], event_id: [], process_executable: [] });
}

export async function mockMode(page: Page, mode: ModeName, databaseAvailable = true): Promise<void> {
  await mockJson(page, "**/api/v1/system/mode", modeBody(mode, databaseAvailable));
}

/** A list answer (the `Page_*` schemas) holding these items. */
export function page<T>(items: T[], total = items.length) {
  return { items, total, skip: 0, limit: 50, data_source: "database" as const };
}

export const UNAVAILABLE = { detail: { code: "database_unavailable", message: "The database is not reachable" } };

export const test = base.extend<{ unmocked: string[] }>({
  unmocked: [
    async ({ page: browserPage }, use) => {
      const unmocked: string[] = [];
      await browserPage.route("**/api/v1/**", (route) => {
        unmocked.push(`${route.request().method()} ${new URL(route.request().url()).pathname}`);
        return route.fulfill({ status: 599, contentType: "application/json", body: '{"detail":"unmocked"}' });
      });
      await use(unmocked);
      expect(unmocked, "requests the spec did not mock").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** A full-page screenshot in test-results/screenshots (kept across runs of the other config). */
export async function snap(target: Page, name: string): Promise<void> {
  await target.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}
