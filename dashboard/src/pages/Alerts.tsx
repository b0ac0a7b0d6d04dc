/** Alert queue: filters, sort, pagination, bulk actions; refreshed by polling and /ws/alerts. */
import { ALERT_SORTS, ALERT_STATUSES, listOf, oneOf } from "../api/enums";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../api/client";
import { useSearchState } from "../hooks/useSearchState";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Chip, Field, Pager, SEVERITIES, SeverityBadge, SortHeader, formatTime } from "../components/ui";

const LIMIT = 50;
const SORTABLE: Record<string, string> = {
  severity: "Severity", title: "Title", occurrence_count: "Occurrences", last_seen_at: "Last seen (event)", created_at: "Created",
};
const ENTITY_FILTERS: [string, string][] = [["host", "Host"], ["user", "User"], ["ip", "IP"]];

function useBulk(selected: string[], clear: () => void) {
  const client = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (action: "resolve" | "escalate" | "create_case") =>
      api.POST("/alerts/bulk", { body: { alert_ids: selected, action } }),
    onSuccess: (result) => {
      clear();
      void client.invalidateQueries({ queryKey: ["alerts"] });
      if (result.case_id) navigate(`/cases/${result.case_id}`);
      else toast(`${result.updated} alerts updated`, "success");
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

export function AlertsPage() {
  const { get, set, skip } = useSearchState();
  const sort = oneOf(ALERT_SORTS, get("sort")) ?? "-last_seen_at"; // spec §27.1: event time
  const filters = {
    severity: get("severity"), status: get("status"), source: get("source"), q: get("q"), since: get("since"), asset: get("asset"),
    host: get("host"), user: get("user"), ip: get("ip"),
  };
  const query = useQuery({
    queryKey: ["alerts", "list", filters, sort, skip],
    queryFn: () =>
      api.GET("/alerts", {
        params: { query: {
          ...filters, status: listOf(ALERT_STATUSES, filters.status), severity: listOf(SEVERITIES, filters.severity), since: filters.since ? new Date(filters.since).toISOString() : null, sort, skip, limit: LIMIT } },
      }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const [search, setSearch] = useState(filters.q);
  const [selected, setSelected] = useState<string[]>([]);
  const bulk = useBulk(selected, () => setSelected([]));
  const items = query.data?.items ?? [];
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const submitSearch = (event: FormEvent) => {
    event.preventDefault();
    set({ q: search });
  };
  const noneSelected = selected.length === 0;

  return (
    <Page title="Alerts" unavailable={unavailable}>
      <form className="mb-3 flex flex-wrap items-end gap-3" onSubmit={submitSearch} role="search" aria-label="Filter alerts">
        <Field label="Search">
          <input className="input w-64" data-testid="search-input" placeholder="Title or description" value={search}
            onChange={(e) => setSearch(e.target.value)} disabled={unavailable} />
        </Field>
        <Field label="Severity">
          <select className="input" data-testid="filter-severity" value={filters.severity} disabled={unavailable}
            onChange={(e) => set({ severity: e.target.value })}>
            <option value="">All</option>
            {SEVERITIES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Status">
          <select className="input" data-testid="filter-status" value={filters.status} disabled={unavailable}
            onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>
            {ALERT_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Source">
          <input className="input w-36" data-testid="filter-source" defaultValue={filters.source} disabled={unavailable}
            onBlur={(e) => set({ source: e.target.value })} />
        </Field>
        {ENTITY_FILTERS.map(([key, label]) => (
          <Field key={key} label={label}>
            <input className="input w-36" data-testid={`filter-${key}`} defaultValue={filters[key as "host" | "user" | "ip"]}
              key={filters[key as "host" | "user" | "ip"]} disabled={unavailable}
              onBlur={(e) => set({ [key]: e.target.value.trim() })}
              onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); set({ [key]: e.currentTarget.value.trim() }); } }} />
          </Field>
        ))}
        <Field label="Events since">
          <input className="input" type="date" data-testid="filter-since" value={filters.since} disabled={unavailable}
            onChange={(e) => set({ since: e.target.value })} />
        </Field>
        <button className="btn" type="submit" disabled={unavailable}>Search</button>
        {filters.asset && (
          <span className="flex items-center gap-1 text-sm" data-testid="asset-filter">
            Asset <Chip>{filters.asset}</Chip>
            <button type="button" className="btn px-2 py-0.5 text-xs" aria-label="Clear asset filter" onClick={() => set({ asset: "" })}>×</button>
          </span>
        )}
        <div className="ml-auto flex gap-2" aria-label="Bulk actions">
          <ActionButton label="Resolve selected" permissions={["alerts:write"]} unavailable={unavailable}
            disabled={noneSelected} busy={bulk.isPending} onRun={() => bulk.mutate("resolve")} testId="bulk-resolve" />
          <ActionButton label="Escalate selected" permissions={["alerts:write"]} unavailable={unavailable}
            disabled={noneSelected} busy={bulk.isPending} onRun={() => bulk.mutate("escalate")} testId="bulk-escalate" />
          <ActionButton label="Create case" permissions={["alerts:write", "cases:write"]} unavailable={unavailable}
            disabled={noneSelected} busy={bulk.isPending} onRun={() => bulk.mutate("create_case")} testId="bulk-create-case" />
        </div>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Live alert queue unavailable"
        queueText="New detections stay queued in the pipeline and will appear here once the database is reachable again."
        empty={items.length === 0} emptyText="No alerts match these filters">
        <table className="table" data-testid="alerts-table">
          <thead>
            <tr>
              <th className="w-8"><span className="sr-only">Select</span></th>
              <SortHeader field="severity" label={SORTABLE.severity} sort={sort} onSort={(s) => set({ sort: s })} />
              <SortHeader field="title" label={SORTABLE.title} sort={sort} onSort={(s) => set({ sort: s })} />
              <th>Host</th>
              <th>User</th>
              <th>Source</th>
              <th>Techniques</th>
              <th>Status</th>
              <SortHeader field="occurrence_count" label={SORTABLE.occurrence_count} sort={sort} onSort={(s) => set({ sort: s })} />
              <SortHeader field="last_seen_at" label={SORTABLE.last_seen_at} sort={sort} onSort={(s) => set({ sort: s })} />
              <SortHeader field="created_at" label={SORTABLE.created_at} sort={sort} onSort={(s) => set({ sort: s })} />
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-testid="alert-row" className="hover:bg-slate-900">
                <td><input type="checkbox" aria-label={`Select ${a.title}`} checked={selected.includes(a.id)} onChange={() => toggle(a.id)} /></td>
                <td><SeverityBadge severity={a.severity} /></td>
                <td><Link to={`/alerts/${a.id}`}>{a.title}</Link></td>
                <td data-testid="alert-host">{a.host
                  ? <button className="hover:text-sky-300" title="Only this host" onClick={() => set({ host: a.host ?? "" })}>{a.host}</button> : "—"}</td>
                <td data-testid="alert-user">{a.user_name
                  ? <button className="hover:text-sky-300" title="Only this user" onClick={() => set({ user: a.user_name ?? "" })}>{a.user_name}</button> : "—"}</td>
                <td>{a.source}</td>
                <td className="space-x-1">{(a.mitre_techniques ?? []).map((t) => <Chip key={t}>{t}</Chip>)}</td>
                <td>{a.status}{a.case_id && <Link className="ml-2 text-xs" to={`/cases/${a.case_id}`}>case</Link>}</td>
                <td>{a.occurrence_count}</td>
                <td className="whitespace-nowrap" data-testid="alert-last-seen">{formatTime(a.last_seen_at)}</td>
                <td className="whitespace-nowrap">{formatTime(a.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </Page>
  );
}
