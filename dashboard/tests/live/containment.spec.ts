/**
 * Containment through approvals (issue #19) in a real browser against a real server: a real Sysmon
 * EVTX of procdump reading LSASS on PC04 is sent through HTTP ingest and correlation files its alert in a case;
 * the offline investigation proposes isolate_endpoint on PC04; the analyst files it, approves it in
 * the Approvals queue, and the SIMULATED EDR connector runs: the case timeline and the audit log
 * (Settings → Audit log, and GET /audit) show the request, the decision and the connector action;
 * the case summary names the host, the technique with its tactic and the process.
 */
import { expect, test, type APIRequestContext } from "@playwright/test";
import { SHARED, base, shot, signIn } from "./support/session";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const PROCDUMP = join(SHARED, "evtx-attack-samples/Credential Access/sysmon_10_11_lsass_memdump.evtx");
const RULE = "LSASS Memory Read by Another Process";
const HOST = "PC04.example.corp";



async function bearer(request: APIRequestContext): Promise<Record<string, string>> {
  const resp = await request.post(`${base()}/api/v1/auth/token`, {
    data: { username: "admin", password: process.env.LIVE_ADMIN_PASSWORD! },
  });
  expect(resp.ok()).toBeTruthy();
  return { Authorization: `Bearer ${(await resp.json()).access_token as string}` };
}

test.describe.serial("containment through approvals", () => {
  let alertId = "";
  let caseId = "";

  test.beforeAll(async ({ request }) => {
    const headers = await bearer(request);
    const sent = await request.post(`${base()}/api/v1/siem/ingest?source=pc04-sysmon&format=evtx`, {
      headers: { ...headers, "Content-Type": "application/octet-stream" },
      data: readFileSync(PROCDUMP),
    });
    expect(sent.status()).toBe(202);
    await expect
      .poll(async () => {
        const found = await request.get(`${base()}/api/v1/alerts`, { headers, params: { host: HOST, q: "LSASS" } });
        const items = (await found.json()).items as { id: string; title: string }[];
        alertId = items.find((a) => a.title === RULE)?.id ?? "";
        return alertId;
      }, { timeout: 30_000 })
      .not.toBe("");
    // Correlation files a critical credential-access alert in a case on its own (no promote needed),
    // in the alert pipeline after the alert is committed: the alert can be listed a moment before.
    await expect
      .poll(async () => {
        const alert = await (await request.get(`${base()}/api/v1/alerts/${alertId}`, { headers })).json();
        caseId = (alert.case_id as string | null) ?? "";
        return caseId;
      }, { timeout: 30_000 })
      .toMatch(/^[0-9a-f-]{36}$/);
  });

  test("an investigation's isolate_endpoint, approved in the console, runs and is on the case and in the audit log", async ({ page, request }, info) => {
    await signIn(page, `/alerts/${alertId}`);
    await page.getByTestId("investigate").click();
    await expect(page).toHaveURL(/\/investigations\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("investigation-verdict")).toHaveText("malicious");
    const proposal = page.getByTestId("proposed-action").filter({ hasText: `isolate_endpoint → ${HOST}` });
    await expect(proposal).toHaveCount(1);
    await proposal.getByTestId("request-approval").click();
    await expect(proposal.getByTestId("proposal-filed")).toContainText("approval pending");
    await shot(page, info, "investigation-proposal-filed");

    await proposal.getByRole("link", { name: "decide" }).click();
    await expect(page).toHaveURL(/\/approvals$/);
    const card = page.getByTestId("approval-card").filter({ hasText: "isolate_host" }).filter({ hasText: HOST });
    await expect(card).toHaveCount(1);
    await expect(card.getByTestId("approval-target")).toHaveText(HOST);
    await expect(card.getByTestId("approval-requester")).toHaveText("admin");
    await expect(card.getByTestId("approval-justification")).toContainText("Proposed by investigation");
    await shot(page, info, "approvals-queue");
    await card.getByTestId("decision-comment").fill("procdump read LSASS on PC04: isolate.");
    await card.getByTestId("approve-button").click();
    await expect(card).toHaveCount(0);

    await page.goto(`${base()}/cases/${caseId}`);
    const timeline = page.getByTestId("case-timeline");
    await expect(timeline.getByTestId("timeline-entry").filter({ hasText: "approval_requested" })).toContainText(`isolate_host ${HOST}`);
    await expect(timeline.getByTestId("timeline-entry").filter({ hasText: "approval_decided" })).toContainText("Approval approved by admin");
    const ran = timeline.getByTestId("timeline-entry").filter({ hasText: "connector_action" });
    await expect(ran).toContainText("isolate_host");
    await expect(ran).toContainText("(SIMULATED)");
    // The alert's entry says when procdump ran (event time), not only when correlation linked it.
    const alert = await (await request.get(`${base()}/api/v1/alerts/${alertId}`, { headers: await bearer(request) })).json();
    const day = new Date(alert.first_seen_at as string).toLocaleDateString("en-US", { year: "2-digit", month: "numeric", day: "numeric" });
    const linked = timeline.getByTestId("timeline-entry").filter({ hasText: `Alert linked: ${RULE}` });
    await expect(linked.getByTestId("timeline-event-time")).toContainText(`event time ${day}`);
    const brief = page.getByTestId("case-brief");
    await expect(brief.getByTestId("case-brief-text")).toContainText(`on ${HOST}`);
    await expect(brief.getByTestId("case-brief-techniques")).toContainText("T1003.001");
    await expect(brief.getByTestId("case-brief-techniques")).toContainText("credential-access");
    await expect(brief.getByTestId("case-brief-processes")).toContainText("procdump.exe");
    await shot(page, info, "case-timeline");

    // The case list names the case after its host and detection, counts its alerts, dates it in event time.
    await page.goto(`${base()}/cases`);
    const listed = page.getByTestId("case-row").filter({ has: page.locator(`a[href="/cases/${caseId}"]`) });
    await expect(listed.getByRole("link")).toHaveText(new RegExp(`^${HOST}: `));
    await expect(listed.getByTestId("case-alert-count")).toHaveText(/^[1-9]\d*$/);
    await expect(listed.getByTestId("case-activity")).toContainText(day);
    await shot(page, info, "case-list");

    const headers = await bearer(request);
    const approvals = await request.get(`${base()}/api/v1/approvals`, { headers, params: { case_id: caseId } });
    const [approval] = (await approvals.json()).items as { id: string; status: string; result: { status: string } }[];
    expect([approval.status, approval.result.status]).toEqual(["approved", "completed"]);

    await page.goto(`${base()}/settings?tab=audit`);
    await page.getByLabel("Action").fill("approval.approved");
    const audited = page.getByTestId("audit-table").locator("tbody tr").filter({ hasText: `approval/${approval.id}` });
    await expect(audited).toHaveCount(1);
    await expect(audited).toContainText("admin");
    await shot(page, info, "audit-log");

    const trail = await request.get(`${base()}/api/v1/audit`, { headers, params: { resource_id: approval.id, limit: 50 } });
    const actions = ((await trail.json()).items as { action: string; resource_id: string }[])
      .filter((a) => a.resource_id === approval.id).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["approval.requested", "approval.approved"]));
    const connector = await request.get(`${base()}/api/v1/connectors/actions`, { headers });
    const runs = ((await connector.json()).items as { action: string; target: string; simulated: boolean }[])
      .filter((r) => r.action === "isolate_host" && r.target === HOST);
    expect(runs.map((r) => r.simulated)).toEqual([true]);
  });
});
