/** Approvals: the pending queue (risk, action, target, requester, justification, countdown) and history. */
import { APPROVAL_STATUSES, oneOf } from "../api/enums";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import type { Approval } from "../api/types";
import { useRuntime, useSession } from "../app/session";
import { countdown, useNow } from "../hooks/useNow";
import { useSearchState } from "../hooks/useSearchState";
import { ActionButton, DataRegion, Page, readonlyReason, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Chip, Field, Pager, SEVERITIES, SeverityBadge, formatTime } from "../components/ui";

const LIMIT = 50;
const TABS = { pending: "Pending", history: "History" } as const;
type Tab = keyof typeof TABS;

function useDecision(approval: Approval, onDone: () => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ verb, comment }: { verb: "approve" | "reject"; comment: string }) =>
      api.POST(`/approvals/{approval_id}/${verb}`, { params: { path: { approval_id: approval.id } }, body: { comment: comment || null } }),
    onSuccess: (decided) => {
      toast(`${decided.action_type} on ${decided.target ?? "—"}: ${decided.status}`, "success");
      ["approvals", "cases", "executions", "dashboard"].forEach((k) => void client.invalidateQueries({ queryKey: [k] }));
      onDone();
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function PendingCard({ approval, now }: { approval: Approval; now: number }) {
  const { me } = useSession();
  const mode = useRuntime();
  const [comment, setComment] = useState("");
  const [missing, setMissing] = useState(false);
  const decide = useDecision(approval, () => setComment(""));
  const adminOnly = approval.escalated && me.role !== "admin";
  const reject = () => (comment.trim() ? decide.mutate({ verb: "reject", comment }) : setMissing(true));
  return (
    <li className="card" data-testid="approval-card" data-approval-id={approval.id}>
      <div className="flex flex-wrap items-center gap-3">
        <SeverityBadge severity={approval.risk_level} />
        <strong className="text-slate-50" data-testid="approval-action">{approval.action_type}</strong>
        <span>on <code className="text-sky-200" data-testid="approval-target">{approval.target ?? "—"}</code></span>
        {approval.escalated && <Chip>escalated · admin decides</Chip>}
        <span className="ml-auto text-sm" data-testid="approval-countdown" title={`Expires ${formatTime(approval.expires_at)}`}>
          expires in {countdown(approval.expires_at, now)}
        </span>
      </div>
      <p className="mt-2 text-sm text-slate-300" data-testid="approval-justification">{approval.justification ?? "No justification given"}</p>
      <p className="mt-1 text-xs text-slate-400">
        Requested by <span data-testid="approval-requester">{approval.requested_by}</span> · {formatTime(approval.created_at)}
        {approval.case_id && <> · <Link to={`/cases/${approval.case_id}`}>case</Link></>}
        {approval.step_name && <> · step {approval.step_name}</>}
      </p>
      <details className="mt-1 text-xs text-slate-400">
        <summary>Parameters</summary>
        <pre className="overflow-x-auto">{JSON.stringify(approval.action_params, null, 2)}</pre>
      </details>
      <div className="mt-3 flex flex-wrap items-start gap-2">
        <textarea className="input min-h-9 flex-1" rows={1} placeholder="Comment (required to reject)" data-testid="decision-comment"
          value={comment} disabled={!!readonlyReason(mode) || adminOnly} aria-label="Decision comment"
          onChange={(e) => { setComment(e.target.value); setMissing(false); }} />
        {adminOnly ? <span className="text-xs text-amber-300" data-testid="readonly-reason" title="Escalated approvals need an admin">Only an admin may decide</span> : (
          <>
            <ActionButton label="Approve" variant="primary" permissions={["approvals:decide"]} busy={decide.isPending}
              onRun={() => decide.mutate({ verb: "approve", comment })} testId="approve-button" />
            <ActionButton label="Reject" permissions={["approvals:decide"]} busy={decide.isPending} onRun={reject} testId="reject-button" />
          </>
        )}
      </div>
      {missing && <p role="alert" data-testid="comment-required" className="mt-1 text-sm text-rose-300">A comment is required to reject.</p>}
    </li>
  );
}

function PendingQueue() {
  const now = useNow();
  const query = useQuery({
    queryKey: ["approvals", "pending"],
    queryFn: () => api.GET("/approvals", { params: { query: { status: "pending", limit: 200 } } }),
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <ApprovalsShell unavailable={unavailable}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Approval queue needs the live database"
        queueText="Pending response actions wait in the database; nothing is approved or executed until it is reachable."
        empty={items.length === 0} emptyText="No pending approvals">
        <ul className="space-y-3" data-testid="approval-queue">
          {items.map((a) => <PendingCard key={a.id} approval={a} now={now} />)}
        </ul>
      </DataRegion>
    </ApprovalsShell>
  );
}

function History() {
  const { get, set, skip } = useSearchState();
  const filters = { status: get("status"), risk_level: get("risk_level") };
  const query = useQuery({
    queryKey: ["approvals", "history", filters, skip],
    queryFn: () => api.GET("/approvals", { params: { query: {
      status: oneOf(APPROVAL_STATUSES, filters.status), risk_level: oneOf(SEVERITIES, filters.risk_level), skip, limit: LIMIT,
    } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <ApprovalsShell unavailable={unavailable}>
      <div className="mb-3 flex gap-3">
        <Field label="Status">
          <select className="input" value={filters.status} disabled={unavailable} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>{APPROVAL_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Risk">
          <select className="input" value={filters.risk_level} disabled={unavailable} onChange={(e) => set({ risk_level: e.target.value })}>
            <option value="">All</option>{SEVERITIES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Approval queue needs the live database"
        queueText="Decisions are recorded in the database, which is not reachable right now."
        empty={items.length === 0} emptyText="No approvals recorded">
        <table className="table" data-testid="approvals-history">
          <thead><tr><th>Risk</th><th>Action</th><th>Target</th><th>Status</th><th>Requested by</th><th>Decided by</th><th>Comment</th><th>Decided</th></tr></thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-testid="approval-row">
                <td><SeverityBadge severity={a.risk_level} /></td><td>{a.action_type}</td><td>{a.target ?? "—"}</td>
                <td data-testid="approval-status">{a.status}</td><td>{a.requested_by}</td><td>{a.decided_by ?? "—"}</td>
                <td className="max-w-xs">{a.decision_comment ?? "—"}</td><td className="whitespace-nowrap">{formatTime(a.decided_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </ApprovalsShell>
  );
}

function ApprovalsShell({ unavailable, children }: { unavailable: boolean; children: ReactNode }) {
  const { get, set } = useSearchState();
  const tab: Tab = get("tab") === "history" ? "history" : "pending";
  return (
    <Page title="Approvals" unavailable={unavailable}>
      <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className="tab" onClick={() => set({ tab: t, status: null, risk_level: null })}>{TABS[t]}</button>
        ))}
      </div>
      {children}
    </Page>
  );
}

export function ApprovalsPage() {
  const { get } = useSearchState();
  return get("tab") === "history" ? <History /> : <PendingQueue />;
}
