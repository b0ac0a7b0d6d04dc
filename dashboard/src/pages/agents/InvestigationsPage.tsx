/** Investigations: every dispatched agent task, newest first, live via /ws/agent-thoughts. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { AGENT_TYPES } from "../../api/enums";
import type { Investigation } from "../../api/types";
import { useSession } from "../../app/session";
import { useLiveFeed } from "../../hooks/useLiveFeed";
import { useSearchState } from "../../hooks/useSearchState";
import { DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { Field, Pager, formatTime } from "../../components/ui";
import { StatusPill, THOUGHTS_FEED, duration, percent, verdictOf } from "./shared";

const LIMIT = 50;
const STATUSES = ["pending", "running", "completed", "review_required", "failed", "dead_lettered"];

function Subject({ inv }: { inv: Investigation }) {
  if (inv.alert_id) return <Link to={`/alerts/${inv.alert_id}`}>alert</Link>;
  if (inv.case_id) return <Link to={`/cases/${inv.case_id}`}>case</Link>;
  return <span className="text-slate-500">—</span>;
}

function Row({ inv }: { inv: Investigation }) {
  return (
    <tr data-testid="investigation-row" className="hover:bg-slate-900">
      <td><StatusPill status={inv.status} testId="investigation-status" /></td>
      <td className="max-w-md">
        <Link to={`/investigations/${inv.id}`} className="line-clamp-2">{inv.prompt}</Link>
      </td>
      <td className="font-mono text-xs">{inv.agent}</td>
      <td>{inv.backend ?? "—"}</td>
      <td className="whitespace-nowrap">{duration(inv)}</td>
      <td>{percent(inv.confidence)}</td>
      <td>{verdictOf(inv) ?? "—"}</td>
      <td className="space-x-2 whitespace-nowrap"><Subject inv={inv} />{inv.alert_id && inv.case_id && <Link to={`/cases/${inv.case_id}`}>case</Link>}</td>
      <td>{inv.requested_by}</td>
      <td className="whitespace-nowrap">{formatTime(inv.created_at)}</td>
    </tr>
  );
}

export function InvestigationsPage() {
  const { can } = useSession();
  const { get, set, skip } = useSearchState();
  const filters = { status: get("status"), agent: get("agent"), alert_id: get("alert_id"), case_id: get("case_id") };
  const query = useQuery({
    queryKey: ["investigations", "list", filters, skip],
    queryFn: () => api.GET("/investigations", { params: { query: { ...filters, skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  useLiveFeed(THOUGHTS_FEED, can("ws:agent_thoughts"));
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  const filtered = Object.values(filters).some(Boolean);
  return (
    <Page title="Investigations" unavailable={unavailable}>
      <div className="mb-3 flex flex-wrap items-end gap-3" role="search" aria-label="Filter investigations">
        <Field label="Status">
          <select className="input" data-testid="status-filter" value={filters.status} disabled={unavailable} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>{STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Agent">
          <select className="input" data-testid="agent-filter" value={filters.agent} disabled={unavailable} onChange={(e) => set({ agent: e.target.value })}>
            <option value="">All</option>{AGENT_TYPES.map((a) => <option key={a}>{a}</option>)}
          </select>
        </Field>
        {(filters.alert_id || filters.case_id) && (
          <button className="btn" data-testid="clear-subject" onClick={() => set({ alert_id: null, case_id: null })}>
            {filters.alert_id ? "Only this alert" : "Only this case"} ✕
          </button>
        )}
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Investigations unavailable"
        queueText="Investigations and their steps are stored in the database; dispatched tasks stay queued until it is reachable."
        empty={items.length === 0} emptyText={filtered ? "No investigations match these filters" : "No investigations dispatched"}>
        <table className="table" data-testid="investigations-table">
          <thead>
            <tr><th>Status</th><th>Task</th><th>Agent</th><th>Backend</th><th>Duration</th><th>Confidence</th><th>Verdict</th><th>Subject</th><th>Requested by</th><th>Created</th></tr>
          </thead>
          <tbody>{items.map((inv) => <Row key={inv.id} inv={inv} />)}</tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </Page>
  );
}
