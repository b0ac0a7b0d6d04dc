/** One investigation: outcome, cited evidence, next steps and the live step timeline; operator override. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api/client";
import type { Investigation } from "../../api/types";
import { POLL_MS, useSession } from "../../app/session";
import { useLiveFeed } from "../../hooks/useLiveFeed";
import { ActionButton, DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Field, formatTime } from "../../components/ui";
import { InvestigationResult } from "./InvestigationResult";
import { InvestigationTimeline } from "./InvestigationTimeline";
import { StatusPill, THOUGHTS_FEED, duration } from "./shared";

const EVENT_LIMIT = 200;
const UNSETTLED = ["pending", "running"];

function Override({ id, unavailable }: { id: string; unavailable: boolean }) {
  const client = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<"completed" | "failed">("completed");
  const [note, setNote] = useState("");
  const override = useMutation({
    mutationFn: () => api.POST("/investigations/{investigation_id}/override", { params: { path: { investigation_id: id } }, body: { status, note } }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["investigations"] });
      toast(`Investigation set ${status}`, "success");
      setOpen(false);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  if (!open) {
    return <ActionButton label="Override" permissions={["agents:dispatch"]} unavailable={unavailable} onRun={() => setOpen(true)} testId="override" />;
  }
  return (
    <form className="flex flex-wrap items-end gap-2" aria-label="Override" onSubmit={(e) => { e.preventDefault(); override.mutate(); }}>
      <Field label="Outcome">
        <select className="input" value={status} onChange={(e) => setStatus(e.target.value as "completed" | "failed")}>
          <option value="completed">completed</option><option value="failed">failed</option>
        </select>
      </Field>
      <Field label="Note"><input className="input w-72" data-testid="override-note" value={note} onChange={(e) => setNote(e.target.value)} required /></Field>
      <button className="btn-primary" data-testid="override-submit" disabled={override.isPending || !note.trim()}>Save</button>
      <button className="btn" type="button" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}

function Facts({ inv }: { inv: Investigation }) {
  return (
    <div className="mb-4 flex flex-wrap items-center gap-4 text-sm" data-testid="investigation-facts">
      <StatusPill status={inv.status} testId="investigation-status" />
      <span>Agent: <span className="font-mono">{inv.agent}</span></span>
      <span>Backend: <strong data-testid="investigation-backend">{inv.backend ?? "—"}</strong></span>
      <span>Duration: {duration(inv)}</span>
      <span>Priority: {inv.priority}</span>
      <span>By {inv.requested_by} · {formatTime(inv.created_at)}</span>
      {inv.alert_id && <Link to={`/alerts/${inv.alert_id}`}>alert</Link>}
      {inv.case_id && <Link to={`/cases/${inv.case_id}`}>case</Link>}
    </div>
  );
}

export function InvestigationDetailPage() {
  const { id = "" } = useParams();
  const { can } = useSession();
  const refetchInterval = (q: { state: { data?: Investigation } }) =>
    UNSETTLED.includes(q.state.data?.status ?? "") ? 3000 : POLL_MS;
  const query = useQuery({ queryKey: ["investigations", "detail", id], queryFn: () => api.GET("/investigations/{investigation_id}", { params: { path: { investigation_id: id } } }), refetchInterval });
  const unsettled = UNSETTLED.includes(query.data?.status ?? "");
  const events = useQuery({
    queryKey: ["investigations", "events", id],
    queryFn: () => api.GET("/investigations/{investigation_id}/events", { params: { path: { investigation_id: id }, query: { limit: EVENT_LIMIT } } }),
    refetchInterval: unsettled ? 3000 : POLL_MS,
  });
  const feed = useMemo(() => ({ ...THOUGHTS_FEED, match: (data: Record<string, unknown>) => data.investigation_id === id }), [id]);
  const live = can("ws:agent_thoughts");
  useLiveFeed(feed, live);
  const unavailable = useUnavailable(query, events);
  const inv = query.data;
  const steps = events.data?.items ?? [];
  return (
    <Page title={inv ? `Investigation · ${inv.agent}` : "Investigation"} unavailable={unavailable}
      toolbar={inv && !unsettled && <Override id={id} unavailable={unavailable} />}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Investigation unavailable"
        queueText="This investigation is stored in the database, which is not reachable right now." empty={false} emptyText="">
        {inv && (
          <>
            <Facts inv={inv} />
            <p className="mb-4 rounded bg-slate-900 p-3 text-sm text-slate-300" data-testid="investigation-prompt">{inv.prompt}</p>
            <div className="grid gap-4 xl:grid-cols-[1fr_1fr]">
              <InvestigationResult inv={inv} events={steps} />
              <div className="card">
                <h2 className="mb-2 flex items-center gap-2 font-medium">
                  Event timeline <span className="text-xs font-normal text-slate-400">{events.data ? `${events.data.total} step(s)` : ""}</span>
                  {live && <span data-testid="live-indicator" className="ml-auto text-xs font-normal text-emerald-300">● live</span>}
                </h2>
                {events.isPending ? <p className="text-sm text-slate-400">Loading steps…</p> : <InvestigationTimeline events={steps} />}
                {(events.data?.total ?? 0) > steps.length && <p className="mt-2 text-xs text-slate-400">Showing the first {steps.length} steps.</p>}
              </div>
            </div>
          </>
        )}
      </DataRegion>
    </Page>
  );
}
