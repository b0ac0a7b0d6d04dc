/** SIEM: event search, saved hunts, log sources (/siem/logs, /siem/hunts, /siem/sources). */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { SiemFacets } from "../api/types";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Field, Pager, SEVERITIES, SeverityBadge, activatable, eventTimeClass, eventTimeTitle, formatTime, prettyRaw } from "../components/ui";
import { AskInWords } from "./SiemAsk";

const RANGES: [string, string][] = [
  ["15m", "15 min"], ["1h", "1 hour"], ["4h", "4 hours"], ["24h", "24 hours"], ["7d", "7 days"], ["30d", "30 days"],
  ["all", "All time"], ["abs", "Absolute…"],
];
const TABS = { search: "Search", hunts: "Saved hunts", sources: "Sources" } as const;
type Tab = keyof typeof TABS;
type Draft = { q: string; range: string; severity: string; since: string; until: string };

/** ISO (API) ↔ the value of an <input type="datetime-local"> in UTC. */
const toLocalInput = (iso: string) => (iso ? iso.slice(0, 16) : "");
const fromLocalInput = (value: string) => (value ? `${value}:00Z` : "");

/** The API query of a draft: a relative range, or absolute since/until (event time). */

/** "1,234"; "≈ 5,100" when the server scaled it from the newest days' matches; "100,000+" past its cap. */
export function totalLabel(page?: { total: number; truncated?: boolean; total_is_estimate?: boolean }): string {
  const total = (page?.total ?? 0).toLocaleString();
  if (page?.truncated) return `${total}+`;
  return page?.total_is_estimate ? `≈ ${total}` : total;
}

/** "1 day", "6 h", "15 min", "30 s": the largest whole unit of a histogram bucket. */
export function bucketLabel(seconds: number): string {
  for (const [unit, size] of [["day", 86_400], ["h", 3_600], ["min", 60]] as const) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return unit === "day" ? `${n} day${n === 1 ? "" : "s"}` : `${n} ${unit}`;
    }
  }
  return `${seconds} s`;
}

function searchQuery(d: Draft): Record<string, string> {
  const base: Record<string, string> = { q: d.q, severity: d.severity };
  if (d.range !== "abs") return { ...base, range: d.range };
  return { ...base, since: d.since, until: d.until };
}

function Histogram({ query }: { query: Record<string, string> }) {
  const histogram = useQuery({
    queryKey: ["siem", "histogram", query],
    queryFn: () => api.GET("/siem/histogram", { params: { query } }),
  });
  const buckets = histogram.data?.buckets ?? [];
  if (!buckets.length) return null;
  const peak = Math.max(...buckets.map((b) => b.count));
  return (
    <figure className="mb-3" data-testid="siem-histogram" aria-label="Events over event time">
      <div className="flex h-16 items-end gap-px border-b border-slate-700">
        {buckets.map((b) => (
          <div key={b.start} className="min-w-[3px] flex-1 bg-sky-600" style={{ height: `${Math.max(4, (b.count / peak) * 100)}%` }}
            title={`${formatTime(b.start)}: ${b.count}`} data-testid="histogram-bar" />
        ))}
      </div>
      <figcaption className="mt-1 flex justify-between text-xs text-slate-400">
        <span>{formatTime(buckets[0].start)}</span>
        <span data-testid="histogram-bucket">{histogram.data?.bucket_seconds ? `${bucketLabel(histogram.data.bucket_seconds)} buckets` : ""}</span>
        <span>{formatTime(buckets[buckets.length - 1].start)}</span>
      </figcaption>
    </figure>
  );
}

const FACET_LABELS: [Exclude<keyof SiemFacets, "sampled">, string, string][] = [
  ["host", "Host", "host"], ["user_name", "User", "user_name"], ["src_ip", "Source IP", "src_ip"], ["event_id", "Event ID", "event_id"],
  ["process_executable", "Process", "process_executable"],
];

function FacetPanel({ query, onPick }: { query: Record<string, string>; onPick: (field: string, value: string) => void }) {
  const facets = useQuery({ queryKey: ["siem", "facets", query], queryFn: () => api.GET("/siem/facets", { params: { query } }) });
  if (!facets.data) return null;
  return (
    <aside className="w-64 shrink-0 space-y-3 text-sm" data-testid="siem-facets" aria-label="Top values">
      {facets.data.sampled ? (
        <p className="text-xs text-slate-400" data-testid="facets-sampled">
          Top values in the newest {facets.data.sampled.toLocaleString()} matches that name any of these
        </p>
      ) : null}
      {FACET_LABELS.map(([key, label, field]) => (
        <section key={key}>
          <h3 className="mb-1 text-xs font-semibold uppercase text-slate-400">{label}</h3>
          <ul>{(facets.data[key] ?? []).map((v) => (
            <li key={v.value}>
              <button className="flex w-full justify-between gap-2 text-left hover:text-sky-300" data-testid={`facet-${key}`}
                onClick={() => onPick(field, v.value)}>
                <span className="truncate" title={v.value}>{v.value}</span><span className="text-slate-400">{v.count.toLocaleString()}</span>
              </button>
            </li>
          ))}</ul>
        </section>
      ))}
    </aside>
  );
}

function SearchTab() {
  const [params] = useSearchParams();
  const initial: Draft = {
    q: params.get("q") ?? "",
    range: params.get("since") || params.get("until") ? "abs" : params.get("range") ?? "24h",
    severity: "",
    since: params.get("since") ?? "",
    until: params.get("until") ?? "",
  };
  const [draft, setDraft] = useState<Draft>(initial);
  const [applied, setApplied] = useState<Draft>(initial);
  const [skip, setSkip] = useState(0);
  const apiQuery = searchQuery(applied);
  const query = useQuery({
    queryKey: ["siem", "logs", apiQuery, skip],
    queryFn: () => api.GET("/siem/logs", { params: { query: { ...apiQuery, skip, limit: 50 } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const apply = (next: Draft) => { setSkip(0); setDraft(next); setApplied(next); };
  const submit = (e: FormEvent) => { e.preventDefault(); apply(draft); };
  const pick = (field: string, value: string) => {
    const term = `${field}:"${value.replace(/"/g, '\\"')}"`;
    apply({ ...applied, q: applied.q ? `${applied.q} AND ${term}` : term });
  };
  const newest = query.data?.newest_at;
  const jump = () => {
    if (!newest) return;
    const end = new Date(new Date(newest).getTime() + 60_000);
    const start = new Date(end.getTime() - 24 * 3600_000);
    apply({ ...applied, range: "abs", since: start.toISOString(), until: end.toISOString() });
  };
  const [open, setOpen] = useState<string | null>(null);
  return (
    <SiemShell unavailable={unavailable}>
      <AskInWords disabled={unavailable} onRun={(q) => apply({ ...applied, q })} />
      <form role="search" aria-label="Search events" className="mb-3 flex flex-wrap items-end gap-3" onSubmit={submit}>
        <Field label="Query (e.g. host:web-01 AND NOT sshd)">
          <input className="input w-96 font-mono" data-testid="search-input" value={draft.q} disabled={unavailable}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </Field>
        <Field label="Range (event time)">
          <select className="input" data-testid="range-select" value={draft.range} disabled={unavailable}
            onChange={(e) => setDraft({ ...draft, range: e.target.value })}>
            {RANGES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </Field>
        {draft.range === "abs" && (
          <>
            <Field label="From (UTC)">
              <input type="datetime-local" className="input" data-testid="since-input" value={toLocalInput(draft.since)}
                onChange={(e) => setDraft({ ...draft, since: fromLocalInput(e.target.value) })} />
            </Field>
            <Field label="To (UTC)">
              <input type="datetime-local" className="input" data-testid="until-input" value={toLocalInput(draft.until)}
                onChange={(e) => setDraft({ ...draft, until: fromLocalInput(e.target.value) })} />
            </Field>
          </>
        )}
        <Field label="Severity">
          <select className="input" value={draft.severity} disabled={unavailable} onChange={(e) => setDraft({ ...draft, severity: e.target.value })}>
            <option value="">All</option>
            {SEVERITIES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <button className="btn-primary" disabled={unavailable}>Search</button>
      </form>
      {newest && !query.data?.items.length && (
        <p className="mb-3 text-sm" data-testid="newest-at" role="status">
          No events in this range — the newest match is from {formatTime(newest)}.{" "}
          <button className="btn ml-2" data-testid="jump-newest" onClick={jump}>Show the day before it</button>
        </p>
      )}
      <p className="mb-2 text-sm text-slate-400" data-testid="logs-total">
        {totalLabel(query.data)} events
      </p>
      <Histogram query={apiQuery} />
      <div className="flex gap-4">
        <FacetPanel query={apiQuery} onPick={pick} />
        <div className="min-w-0 flex-1 overflow-x-auto">
          <DataRegion query={query} unavailable={unavailable} unavailableTitle="Event search unavailable"
            queueText="Ingested events are buffered by the pipeline and become searchable once the database is reachable."
            empty={!query.data?.items.length} emptyText="No events in this range">
            <table className="table" data-testid="logs-table">
              <thead><tr><th>Event time</th><th>Severity</th><th>Source</th><th>Host</th><th>User</th><th>Event</th><th>Message</th></tr></thead>
              <tbody>{query.data?.items.map((l) => (
                <tr key={l.id} className="cursor-pointer hover:bg-slate-900" data-testid="log-row" {...activatable(() => setOpen(open === l.id ? null : l.id))}>
                  <td className={eventTimeClass(l.time_source)} title={eventTimeTitle(l.received_at, l.time_source)}>{formatTime(l.timestamp)}</td>
                  <td><SeverityBadge severity={l.severity} /></td>
                  <td>{l.source}</td><td>{l.host ?? "—"}</td><td>{l.user_name ?? "—"}</td><td>{l.event_id ?? "—"}</td>
                  {/* a table cell ignores max-width: the box inside it bounds the message, or a long one widens the page */}
                  <td>{open === l.id ? <pre className="max-w-xl text-xs whitespace-pre-wrap break-all">{prettyRaw(l.raw) ?? l.message}</pre> : <div className="max-w-xl truncate" data-testid="log-message">{l.message ?? l.process_executable}</div>}</td>
                </tr>
              ))}</tbody>
            </table>
            <Pager skip={skip} limit={50} total={query.data?.total ?? 0} onChange={setSkip} />
          </DataRegion>
        </div>
      </div>
    </SiemShell>
  );
}

function HuntsTab() {
  const client = useQueryClient();
  const toast = useToast();
  const query = useQuery({ queryKey: ["siem", "hunts"], queryFn: () => api.GET("/siem/hunts", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  const run = useMutation({
    mutationFn: (id: string) => api.POST("/siem/hunts/{hunt_id}/run", { params: { path: { hunt_id: id } } }),
    onSuccess: (r) => { toast(`Hunt ran: ${JSON.stringify(r).slice(0, 120)}`, "success"); void client.invalidateQueries({ queryKey: ["siem", "hunts"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <SiemShell unavailable={unavailable}>
    <DataRegion query={query} unavailable={unavailable} unavailableTitle="Saved hunts unavailable"
      queueText="Hunts are stored in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No saved hunts">
      <table className="table" data-testid="hunts-table">
        <thead><tr><th>Name</th><th>Query</th><th>Owner</th><th>Created</th><th /></tr></thead>
        <tbody>{query.data?.items.map((h) => (
          <tr key={h.id}><td>{h.name}</td><td className="font-mono text-xs">{h.query}</td><td>{h.created_by}</td><td>{formatTime(h.created_at)}</td>
            <td><ActionButton label="Run" permissions={["siem:read"]} busy={run.isPending} onRun={() => run.mutate(h.id)} /></td></tr>
        ))}</tbody>
      </table>
    </DataRegion>
    </SiemShell>
  );
}

function SourcesTab() {
  const query = useQuery({ queryKey: ["siem", "sources"], queryFn: () => api.GET("/siem/sources", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  return (
    <SiemShell unavailable={unavailable}>
    <DataRegion query={query} unavailable={unavailable} unavailableTitle="Log sources unavailable"
      queueText="Source statistics live in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No log sources configured">
      <table className="table" data-testid="sources-table">
        <thead><tr><th>Name</th><th>Kind</th><th>Format</th><th>Status</th><th>EPS</th><th>Events today</th><th title="When events last arrived: silence makes a source stale">Last received</th><th title="The newest event's own time">Last event</th></tr></thead>
        <tbody>{query.data?.items.map((s) => (
          <tr key={s.id}><td>{s.name}</td><td>{s.kind}</td><td>{s.format}</td><td>{s.status}</td><td>{s.eps.toFixed(2)}</td>
            <td>{s.events_today.toLocaleString()}</td><td>{formatTime(s.last_received_at)}</td><td>{formatTime(s.last_event_at)}</td></tr>
        ))}</tbody>
      </table>
    </DataRegion>
    </SiemShell>
  );
}

/** Each tab owns its read, so each renders the page frame with its own runtime state. */
function SiemShell({ unavailable, children }: { unavailable: boolean; children: ReactNode }) {
  const [params, setParams] = useSearchParams();
  const tab = currentTab(params);
  return (
    <Page title="SIEM" unavailable={unavailable}>
      <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className="tab" onClick={() => setParams({ tab: t })}>{TABS[t]}</button>
        ))}
      </div>
      {children}
    </Page>
  );
}

function currentTab(params: URLSearchParams): Tab {
  const tab = params.get("tab");
  return tab && tab in TABS ? (tab as Tab) : "search";
}

export function SiemPage() {
  const [params] = useSearchParams();
  const tab = currentTab(params);
  if (tab === "hunts") return <HuntsTab />;
  if (tab === "sources") return <SourcesTab />;
  return <SearchTab />;
}
