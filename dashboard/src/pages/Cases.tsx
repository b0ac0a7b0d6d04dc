/** Case list with filters and paging; new case form (cases:write). */
import { listOf, type CaseStatus, type Severity } from "../api/enums";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../api/client";
import { useSearchState } from "../hooks/useSearchState";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Field, Pager, SEVERITIES, SeverityBadge, SortHeader, formatTime } from "../components/ui";

const LIMIT = 50;
// The API's sort keys (GET /cases ?sort=, "-" for descending); a value outside them reads as the default.
const SORTS = ["updated_at", "created_at", "severity", "status", "title"] as const;
const DEFAULT_SORT = "-updated_at";

function sortOf(value: string): string {
  return (SORTS as readonly string[]).includes(value.replace(/^-/, "")) ? value : DEFAULT_SORT;
}
/** The statuses a case moves through today (the schema also lists two legacy ones). */
const STATUSES: CaseStatus[] = ["open", "in_progress", "pending_approval", "contained", "eradicated", "recovered", "resolved", "closed"];

function NewCaseForm({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const [title, setTitle] = useState("");
  const [severity, setSeverity] = useState<Severity>("medium");
  const [description, setDescription] = useState("");
  const create = useMutation({
    mutationFn: () => api.POST("/cases", { body: { title, severity, description: description || null } }),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ["cases"] });
      navigate(`/cases/${created.id}`);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="card mb-4 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="New case">
      <Field label="Title"><input className="input w-80" value={title} onChange={(e) => setTitle(e.target.value)} required autoFocus /></Field>
      <Field label="Severity">
        <select className="input" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
          {SEVERITIES.map((s) => <option key={s}>{s}</option>)}
        </select>
      </Field>
      <Field label="Description"><input className="input w-96" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
      <button className="btn-primary" disabled={create.isPending}>Create</button>
      <button className="btn" type="button" onClick={onClose}>Cancel</button>
    </form>
  );
}

export function CasesPage() {
  const { get, set, skip } = useSearchState();
  const filters = { status: get("status"), severity: get("severity"), q: get("q") };
  const sort = sortOf(get("sort"));
  const onSort = (s: string) => set({ sort: s === DEFAULT_SORT ? null : s });
  const query = useQuery({
    queryKey: ["cases", "list", filters, sort, skip],
    queryFn: () => api.GET("/cases", { params: { query: {
      status: listOf(STATUSES, filters.status), severity: listOf(SEVERITIES, filters.severity), q: filters.q, sort, skip, limit: LIMIT,
    } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const [creating, setCreating] = useState(false);
  const [search, setSearch] = useState(filters.q);
  const items = query.data?.items ?? [];
  return (
    <Page title="Cases" unavailable={unavailable}
      toolbar={<ActionButton label="New case" variant="primary" permissions={["cases:write"]} unavailable={unavailable}
        onRun={() => setCreating(true)} testId="new-case" />}>
      {creating && <NewCaseForm onClose={() => setCreating(false)} />}
      <form className="mb-3 flex flex-wrap items-end gap-3" role="search" aria-label="Filter cases"
        onSubmit={(e) => { e.preventDefault(); set({ q: search }); }}>
        <Field label="Search">
          <input className="input w-64" data-testid="search-input" value={search} placeholder="Title or description"
            onChange={(e) => setSearch(e.target.value)} disabled={unavailable} />
        </Field>
        <Field label="Status">
          <select className="input" value={filters.status} disabled={unavailable} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>
            {STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Severity">
          <select className="input" value={filters.severity} disabled={unavailable} onChange={(e) => set({ severity: e.target.value })}>
            <option value="">All</option>
            {SEVERITIES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <button className="btn" type="submit" disabled={unavailable}>Search</button>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Live case data unavailable"
        queueText="Cases and their timelines live in the database; changes made by the pipeline are queued until it is reachable."
        empty={items.length === 0} emptyText={Object.values(filters).some(Boolean) ? "No cases match these filters" : "No cases yet"}>
        <table className="table" data-testid="cases-table">
          <thead>
            <tr>
              <SortHeader field="severity" label="Severity" sort={sort} onSort={onSort} />
              <SortHeader field="title" label="Title" sort={sort} onSort={onSort} />
              <th>Alerts</th><th title="Event time of the latest event behind its alerts">Last event</th>
              <SortHeader field="status" label="Status" sort={sort} onSort={onSort} />
              <th>Assignee</th><th>Source</th>
              <SortHeader field="created_at" label="Opened" sort={sort} onSort={onSort} />
              <SortHeader field="updated_at" label="Updated" sort={sort} onSort={onSort} />
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id} data-testid="case-row" className="hover:bg-slate-900">
                <td><SeverityBadge severity={c.severity} /></td>
                <td><Link to={`/cases/${c.id}`}>{c.title}</Link></td>
                <td data-testid="case-alert-count">{c.alert_count}</td>
                <td className="whitespace-nowrap" data-testid="case-activity"
                  title={c.first_seen_at ? `first event ${formatTime(c.first_seen_at)}` : undefined}>
                  {c.last_seen_at ? formatTime(c.last_seen_at) : "—"}
                </td>
                <td>{c.status}</td>
                <td>{c.assigned_to ?? "—"}</td>
                <td>{c.source}</td>
                <td className="whitespace-nowrap">{formatTime(c.created_at)}</td>
                <td className="whitespace-nowrap">{formatTime(c.updated_at ?? c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </Page>
  );
}
