/**
 * Threat intel and coverage against a real server (issue 17): subscribe to a STIX 2.1 feed served by a
 * local HTTP server, ingest a Suricata event that talks to one of its indicators, see the alert carry the
 * match with its feed, TLP and confidence; then the ATT&CK coverage matrix (enabled rules vs observed
 * alerts) and its Navigator layer export. Screenshots go to test-results/screenshots.
 */
import { expect, test, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const base = () => process.env.LIVE_BASE_URL!;
const SHOTS = "test-results/screenshots";
const C2 = "198.51.100.99";
const TLP_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

function bundle(): string {
  const now = new Date().toISOString();
  const indicator = {
    type: "indicator", spec_version: "2.1", id: `indicator--${randomUUID()}`, created: now, modified: now,
    name: "Live lane C2", pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: "stix", valid_from: now,
    confidence: 85, object_marking_refs: [TLP_RED],
  };
  return JSON.stringify({ type: "bundle", id: `bundle--${randomUUID()}`, objects: [indicator] });
}

function eveFlowTo(ip: string): string {
  return JSON.stringify({
    timestamp: new Date().toISOString().replace("Z", "+0000"), flow_id: 4127730012345678, event_type: "flow",
    src_ip: "10.20.0.14", src_port: 51522, dest_ip: ip, dest_port: 443, proto: "TCP", app_proto: "tls",
    flow: { pkts_toserver: 12, pkts_toclient: 10, bytes_toserver: 1840, bytes_toclient: 5210, state: "closed" },
  });
}

async function serveFeed(body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => { res.setHeader("Content-Type", "application/json"); res.end(body); });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.json` };
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base()}/login`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(process.env.LIVE_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

test("a feed indicator marks the alert; the ATT&CK matrix and Navigator layer show coverage", async ({ page }) => {
  const feed = await serveFeed(bundle());
  try {
    await signIn(page);
    const created = await page.request.post(`${base()}/api/v1/intel/feeds`, {
      // cookie-authenticated writes carry the console's CSRF header (issue 18), as the SPA's client does
      data: { name: "live-stix", kind: "stix", url: feed.url, tlp: "amber", refresh_minutes: 60 },
      headers: { "X-Aurora-CSRF": "1" },
    });
    expect(created.status()).toBe(201);
    expect(await created.json()).toMatchObject({ last_status: "ok", indicator_count: 1 });

    await page.goto(`${base()}/threat-intel`);
    await page.getByTestId("feeds-toggle").click();
    const row = page.getByTestId("feed-row").filter({ hasText: "live-stix" });
    await expect(row).toContainText("ok");
    await expect(row).toContainText("TLP:AMBER");
    await expect(row.locator("td").nth(3)).toHaveText("1");
    await page.screenshot({ path: `${SHOTS}/intel-feeds.png`, fullPage: true });

    const ingest = await page.request.post(`${base()}/api/v1/siem/ingest?format=eve&source=live-intel`, {
      data: eveFlowTo(C2), headers: { "Content-Type": "application/x-ndjson", "X-Aurora-CSRF": "1" },
    });
    expect(ingest.status()).toBe(202);

    await expect(async () => {
      await page.goto(`${base()}/alerts?q=${encodeURIComponent("Threat intel match")}`);
      await expect(page.getByText(`Threat intel match: ip ${C2} (live-stix)`).first()).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await page.getByText(`Threat intel match: ip ${C2} (live-stix)`).first().click();
    const match = page.getByTestId("intel-match");
    await expect(match).toHaveCount(1);
    await expect(match).toContainText(C2);
    await expect(match).toContainText("live-stix");
    await expect(match).toContainText("TLP:RED");
    await expect(match).toContainText("85%");
    await expect(page.getByTestId("loading-skeleton")).toHaveCount(0);
    await page.screenshot({ path: `${SHOTS}/alert-intel-match.png`, fullPage: true });

    // an alert of this test's own with a technique: the matrix must not depend on what other specs stored
    const observed = await page.request.post(`${base()}/api/v1/alerts`, {
      data: { title: "Live lane beacon", source: "live-intel", severity: "medium", mitre_techniques: ["T1071.001"] },
      headers: { "X-Aurora-CSRF": "1" },
    });
    expect(observed.status()).toBeLessThan(300);

    await page.getByRole("link", { name: "Detections" }).click();
    await page.getByTestId("coverage-link").click();
    await expect(page).toHaveURL(/\/detections\/coverage$/);
    await page.getByTestId("coverage-range").selectOption({ label: "All time" });
    const matrix = page.getByTestId("attack-matrix");
    await expect(matrix.getByTestId("tactic-column").first()).toBeVisible();
    // the counts follow the range: read them once the all-time answer is shown, not the default range's
    const count = (id: string) => async () => Number(await page.getByTestId(id).textContent());
    await expect.poll(count("covered-count")).toBeGreaterThan(0);
    await expect.poll(count("observed-count")).toBeGreaterThan(0);
    await expect(matrix.locator('[data-testid="coverage-cell"][data-state="rules"]').first()).toBeVisible();
    await expect(matrix.locator('[data-testid="coverage-cell"][data-state="both"], [data-testid="coverage-cell"][data-state="alerts"]').first()).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/attack-coverage.png`, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-rules-layer").click()]);
    expect(download.suggestedFilename()).toBe("aurorasoc-rules-layer.json");
    const layer = JSON.parse(await (await import("node:fs/promises")).readFile((await download.path())!, "utf8"));
    expect(layer.domain).toBe("enterprise-attack");
    expect(layer.versions.layer).toMatch(/^4\.\d+$/);
    expect(layer.techniques.length).toBeGreaterThan(0);
    expect(layer.techniques[0].techniqueID).toMatch(/^T\d{4}(\.\d{3})?$/);
  } finally {
    feed.server.close();
  }
});
