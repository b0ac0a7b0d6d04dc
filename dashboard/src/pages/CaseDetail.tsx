/** One case: summary, timeline, linked alerts, approvals, playbook runs, reports; status moves, comments. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { CaseDetail, Investigation } from "../api/types";
import { allowedNext, needsClose } from "../app/caseLifecycle";
import { useRuntime, useSession } from "../app/session";
import { ActionButton, DataRegion, Page, readonlyReason, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { SeverityBadge, formatTime } from "../components/ui";
import { CaseApprovals, CaseExecutions, CaseReports } from "./CaseResponse";
import { InvestigationLinks } from "./agents/InvestigationLinks";
import { CaseEvidencePanel } from "./CaseEvidence";
import { CaseSummaryCard } from "./CaseSummary";

function useCaseWrite(id: string) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (request: (path: { case_id: string }) => Promise<unknown>) => request({ case_id: id }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["cases"] });
      void client.invalidateQueries({ queryKey: ["alerts"] });
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function Controls({ found, write }: { found: CaseDetail; write: ReturnType<typeof useCaseWrite> }) {
  const { can } = useSession();
  const mode = useRuntime();
  const [target, setTarget] = useState("");
  const [assignee, setAssignee] = useState(found.assigned_to ?? "");
  const reason = readonlyReason(mode);
  const moves = allowedNext(found.status).filter((s) => !needsClose(found.status, s) || can("cases:close"));
  if (!can("cases:write")) return null;
  return (
    <div className="card mb-4 flex flex-wrap items-end gap-4" aria-label="Case actions">
      <label className="flex flex-col gap-1 text-xs text-slate-400">
        Move to
        <select className="input" data-testid="status-select" value={target} disabled={!!reason}
          onChange={(e) => setTarget(e.target.value)}>
          <option value="">Choose a status…</option>
          {moves.map((s) => <option key={s}>{s}</option>)}
        </select>
      </label>
      <ActionButton label="Apply status" permissions={["cases:write"]} disabled={!target} busy={write.isPending}
        onRun={() => write.mutate((path) => api.PATCH("/cases/{case_id}", { params: { path }, body: { status: target as CaseDetail["status"] } }), { onSuccess: () => setTarget("") })}
        testId="apply-status" />
      <label className="flex flex-col gap-1 text-xs text-slate-400">
        Assignee
        <input className="input w-40" value={assignee} disabled={!!reason} onChange={(e) => setAssignee(e.target.value)} />
      </label>
      <ActionButton label="Assign" permissions={["cases:write"]} busy={write.isPending}
        onRun={() => write.mutate((path) => api.POST("/cases/{case_id}/assign", { params: { path }, body: { assigned_to: assignee || null } }))} />
    </div>
  );
}

function CommentForm({ write }: { write: ReturnType<typeof useCaseWrite> }) {
  const [text, setText] = useState("");
  const mode = useRuntime();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    write.mutate((path) => api.POST("/cases/{case_id}/comments", { params: { path }, body: { text } }), { onSuccess: () => setText("") });
  };
  return (
    <form className="mt-3 flex gap-2" onSubmit={submit} aria-label="Add comment">
      <input className="input flex-1" data-testid="comment-input" placeholder="Add a comment" value={text}
        disabled={!mode.is_mutations_allowed} onChange={(e) => setText(e.target.value)} required />
      <ActionButton label="Comment" permissions={["cases:write"]} busy={write.isPending} onRun={() => undefined} testId="comment-submit" />
    </form>
  );
}

function Pending({ title, text }: { title: string; text: string }) {
  return (
    <div className="card">
      <h2 className="mb-1 font-medium">{title}</h2>
      <p className="text-sm text-slate-400">{text}</p>
    </div>
  );
}

export function CaseDetailPage() {
  const { id = "" } = useParams();
  const query = useQuery({ queryKey: ["cases", "detail", id], queryFn: () => api.GET("/cases/{case_id}", { params: { path: { case_id: id } } }) });
  const unavailable = useUnavailable(query);
  const write = useCaseWrite(id);
  const found = query.data;
  return (
    <Page title={found?.title ?? "Case"} unavailable={unavailable}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Case unavailable"
        queueText="This case is stored in the database, which is not reachable right now." empty={false} emptyText="">
        {found && (
          <>
            <div className="mb-4 flex flex-wrap gap-4 text-sm">
              <SeverityBadge severity={found.severity} />
              <span>Status: <strong data-testid="case-status">{found.status}</strong></span>
              <span>Assignee: {found.assigned_to ?? "unassigned"}</span>
              <span>Source: {found.source}</span>
              <span>Confidence: {found.confidence ?? "—"}</span>
              <span>Updated: {formatTime(found.updated_at ?? found.created_at)}</span>
            </div>
            {!unavailable && <Controls found={found} write={write} />}
            <div className="grid gap-4 xl:grid-cols-[2fr_1fr]">
              <div className="flex flex-col gap-4">
              <CaseSummaryCard caseId={found.id} />
              <CaseEvidencePanel caseId={found.id} />
              <div className="card">
                <h2 className="mb-2 font-medium">Timeline</h2>
                <ol data-testid="case-timeline" className="space-y-2 border-l border-slate-700 pl-4">
                  {found.timeline?.map((e) => (
                    <li key={e.id} data-testid="timeline-entry" className="text-sm">
                      <span className="text-slate-400">{formatTime(e.timestamp)}</span>{" "}
                      <strong className="text-slate-100">{e.action}</strong> by {e.actor}
                      {typeof e.data?.first_seen_at === "string" && (
                        <span data-testid="timeline-event-time" className="text-slate-400"> · event time {formatTime(e.data.first_seen_at)}</span>
                      )}
                      {e.details && <p className="text-slate-300">{e.details}</p>}
                    </li>
                  ))}
                </ol>
                <CommentForm write={write} />
              </div>
              <CaseExecutions found={found} />
              </div>
              <div className="flex flex-col gap-4">
                <div className="card" data-testid="case-alerts">
                  <h2 className="mb-2 font-medium">Linked alerts ({found.alerts?.length ?? 0})</h2>
                  <ul className="space-y-1 text-sm">
                    {found.alerts?.map((a) => (
                      <li key={a.id}><SeverityBadge severity={a.severity} /> <Link to={`/alerts/${a.id}`}>{a.title}</Link> · {a.status}
                        {a.first_seen_at && <span className="text-xs text-slate-400" data-testid="case-alert-time"> · {formatTime(a.first_seen_at)}</span>}</li>
                    ))}
                  </ul>
                </div>
                {found.description && <Pending title="Description" text={found.description} />}
                <div className="card" data-testid="case-investigations">
                  <h2 className="mb-2 font-medium">Investigations</h2>
                  <InvestigationLinks items={(found.investigations ?? []) as unknown as Investigation[]} empty="No agent has worked on this case yet." />
                </div>
                <CaseApprovals found={found} />
                <CaseReports found={found} />
              </div>
            </div>
          </>
        )}
      </DataRegion>
    </Page>
  );
}
