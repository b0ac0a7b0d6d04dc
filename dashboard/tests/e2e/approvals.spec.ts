/** Approvals: the pending queue, approve, reject (comment required), read-only in dry_run, unavailable. */
import type { Page } from "@playwright/test";
import { APPROVAL, ESCALATED_APPROVAL } from "./support/fixtures";
import type { Schemas } from "./support/schema";
import { UNAVAILABLE, expect, mockJson, mockMode, mockSession, page as pageOf, snap, test, type MockUser } from "./support/mockApi";

const LEAD = { username: "lead", role: "analyst", permissions: ["approvals:read", "approvals:decide", "cases:read"] } satisfies MockUser;

/** The pending queue as the server would answer it: decided approvals leave it. */
async function mockQueue(page: Page, pending: Schemas["ApprovalOut"][]) {
  const queue = [...pending];
  const decisions: Array<{ verb: string; body: unknown }> = [];
  await page.route("**/api/v1/approvals?*", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf(queue)) }));
  await page.route(/\/api\/v1\/approvals\/[^/]+\/(approve|reject)$/, (route) => {
    const [, id, verb] = new URL(route.request().url()).pathname.match(/approvals\/([^/]+)\/(\w+)$/)!;
    const body = route.request().postDataJSON() as { comment: string | null };
    decisions.push({ verb, body });
    const index = queue.findIndex((a) => a.id === id);
    const [decided] = queue.splice(index, 1);
    const status = verb === "approve" ? "approved" : "rejected";
    return route.fulfill({ status: 200, contentType: "application/json",
      body: JSON.stringify({ ...decided, status, decided_by: LEAD.username, decision_comment: body.comment }) });
  });
  return decisions;
}

test.describe("real mode", () => {
  test.beforeEach(async ({ page }) => {
    await mockSession(page, { user: LEAD });
    await mockMode(page, "real");
  });

  test("pending queue shows risk, action, target, requester, justification and a live countdown", async ({ page }) => {
    await mockQueue(page, [APPROVAL, ESCALATED_APPROVAL]);
    await page.goto("/approvals");
    const cards = page.getByTestId("approval-card");
    await expect(cards).toHaveCount(2);
    const first = cards.first();
    await expect(first.locator("[data-severity]")).toHaveText("high");
    await expect(first.getByTestId("approval-action")).toHaveText("isolate_host");
    await expect(first.getByTestId("approval-target")).toHaveText("MSEDGEWIN10");
    await expect(first.getByTestId("approval-requester")).toHaveText("playbook:malware-response");
    await expect(first.getByTestId("approval-justification")).toHaveText("Step isolate of playbook malware-response");
    const countdown = first.getByTestId("approval-countdown");
    await expect(countdown).toHaveText(/^expires in 2[45]m \d\ds$/);
    const before = await countdown.textContent();
    await expect(countdown).not.toHaveText(before!); // it ticks without a refetch
    // Escalated approvals are decided by an admin only: this analyst gets the reason, not the buttons.
    const escalated = cards.nth(1);
    await expect(escalated).toContainText("escalated · admin decides");
    await expect(escalated.getByTestId("approve-button")).toHaveCount(0);
    await expect(escalated.getByTestId("readonly-reason")).toHaveText("Only an admin may decide");
    await snap(page, "mocked-approvals-pending");
  });

  test("approve sends the optional comment and the card leaves the queue", async ({ page }) => {
    const decisions = await mockQueue(page, [APPROVAL]);
    await page.goto("/approvals");
    await page.getByTestId("decision-comment").fill("Host owner confirmed, isolate now.");
    await page.getByTestId("approve-button").click();
    await expect(page.getByTestId("empty-state")).toHaveText("No pending approvals");
    expect(decisions).toEqual([{ verb: "approve", body: { comment: "Host owner confirmed, isolate now." } }]);
  });

  test("reject requires a comment before anything is sent", async ({ page }) => {
    const decisions = await mockQueue(page, [APPROVAL]);
    await page.goto("/approvals");
    await page.getByTestId("reject-button").click();
    await expect(page.getByTestId("comment-required")).toHaveText("A comment is required to reject.");
    await expect(page.getByTestId("approval-card")).toHaveCount(1);
    expect(decisions).toEqual([]);
    await page.getByTestId("decision-comment").fill("Wrong host: this is the CFO's laptop.");
    await expect(page.getByTestId("comment-required")).toHaveCount(0);
    await page.getByTestId("reject-button").click();
    await expect(page.getByTestId("empty-state")).toHaveText("No pending approvals");
    expect(decisions).toEqual([{ verb: "reject", body: { comment: "Wrong host: this is the CFO's laptop." } }]);
  });

  test("history lists decisions with who decided and why", async ({ page }) => {
    const decided = { ...APPROVAL, status: "rejected", decided_by: "lead", decided_at: APPROVAL.created_at, decision_comment: "Wrong host" };
    let asked = "";
    await page.route("**/api/v1/approvals?*", (route) => {
      asked = new URL(route.request().url()).search;
      return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(pageOf([decided])) });
    });
    await page.goto("/approvals?tab=history");
    await expect(page.getByTestId("approval-row")).toHaveCount(1);
    await expect(page.getByTestId("approval-row")).toContainText("Wrong host");
    await expect(page.getByTestId("approval-status")).toHaveText("rejected");
    expect(asked).not.toContain("status=pending");
    await snap(page, "mocked-approvals-history");
  });
});

test("dry_run: the queue is visible but deciding is blocked with the reason", async ({ page }) => {
  await mockSession(page, { user: LEAD });
  await mockMode(page, "dry_run");
  const decisions = await mockQueue(page, [APPROVAL]);
  await page.goto("/approvals");
  await expect(page.getByTestId("runtime-banner")).toHaveText("Dry run — actions are previews");
  await expect(page.getByTestId("approval-card")).toHaveCount(1);
  await expect(page.getByTestId("approve-button")).toBeDisabled();
  await expect(page.getByTestId("reject-button")).toBeDisabled();
  await expect(page.getByTestId("decision-comment")).toBeDisabled();
  await expect(page.getByTestId("readonly-reason").first()).toHaveAttribute("title", "Dry run — actions are previews");
  expect(decisions).toEqual([]);
});

test("database down: the queue says it needs the live database, not that it is empty", async ({ page }) => {
  await mockSession(page, { user: { ...LEAD, permissions: [...LEAD.permissions, "settings:manage"] } });
  await mockMode(page, "dry_run", false);
  await mockJson(page, "**/api/v1/approvals?*", UNAVAILABLE, 503);
  await page.goto("/approvals");
  await expect(page.getByTestId("runtime-banner")).toHaveAttribute("data-read-source", "unavailable");
  await expect(page.getByTestId("data-unavailable")).toContainText("Approval queue needs the live database");
  await expect(page.getByTestId("empty-state")).toHaveCount(0);
  await expect(page.getByTestId("retry-button")).toBeEnabled();
  await expect(page.getByTestId("mode-settings-link")).toBeVisible();
});

test("without approvals:decide the queue is read-only (no decision buttons)", async ({ page }) => {
  await mockSession(page, { user: { username: "v", role: "viewer", permissions: ["approvals:read"] } });
  await mockMode(page, "real");
  await mockQueue(page, [APPROVAL]);
  await page.goto("/approvals");
  await expect(page.getByTestId("approval-card")).toHaveCount(1);
  await expect(page.getByTestId("approve-button")).toHaveCount(0);
  await expect(page.getByTestId("reject-button")).toHaveCount(0);
});
