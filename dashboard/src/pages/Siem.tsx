/** SIEM: event search, saved hunts, log sources (/siem/logs, /siem/hunts, /siem/sources). */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { Hunt, LogSource, Page as PageOf, SiemLog } from "../api/types";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Field, Pager, SEVERITIES, SeverityBadge, activatable, formatTime } from "../components/ui";

const RANGES = ["15m", "1h", "4h", "24h", "7d"];
const TABS = { search: "Search", hunts: "Saved hunts", sources: "Sources" } as const;
type Tab = keyof typeof TABS;

function SearchTab() {
  const [params] = useSearchParams();
  const [draft, setDraft] = useState({ q: params.get("q") ?? "", range: params.get("range") ?? "24h", severity: "" });
  const [applied, setApplied] = useState(draft);
  const [skip, setSkip] = useState(0);
  const query = useQuery({
    queryKey: ["siem", "logs", applied, skip],
    queryFn: () => api<PageOf<SiemLog>>("/siem/logs", { query: { ...applied, skip, limit: 50 } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const submit = (e: FormEvent) => { e.preventDefault(); setSkip(0); setApplied(draft); };
  const [open, setOpen] = useState<string | null>(null);
  return (
    <SiemShell unavailable={unavailable}>
      <form role="search" aria-label="Search events" className="mb-3 flex flex-wrap items-end gap-3" onSubmit={submit}>
        <Field label="Query (e.g. host:web-01 AND NOT sshd)">
          <input className="input w-96 font-mono" data-testid="search-input" value={draft.q} disabled={unavailable}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </Field>
        <Field label="Range">
          <select className="input" value={draft.range} disabled={unavailable} onChange={(e) => setDraft({ ...draft, range: e.target.value })}>
            {RANGES.map((r) => <option key={r}>{r}</option>)}
          </select>
        </Field>
        <Field label="Severity">
          <select className="input" value={draft.severity} disabled={unavailable} onChange={(e) => setDraft({ ...draft, severity: e.target.value })}>
            <option value="">All</option>
            {SEVERITIES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <button className="btn-primary" disabled={unavailable}>Search</button>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Event search unavailable"
        queueText="Ingested events are buffered by the pipeline and become searchable once the database is reachable."
        empty={!query.data?.items.length} emptyText="No events in this range">
        <table className="table" data-testid="logs-table">
          <thead><tr><th>Received</th><th>Severity</th><th>Source</th><th>Host</th><th>Event</th><th>Message</th></tr></thead>
          <tbody>{query.data?.items.map((l) => (
            <tr key={l.id} className="cursor-pointer hover:bg-slate-900" {...activatable(() => setOpen(open === l.id ? null : l.id))}>
              <td className="whitespace-nowrap">{formatTime(l.received_at)}</td><td><SeverityBadge severity={l.severity} /></td>
              <td>{l.source}</td><td>{l.host ?? "—"}</td><td>{l.event_id ?? "—"}</td>
              <td className="max-w-xl truncate">{open === l.id ? <pre className="text-xs whitespace-pre-wrap">{l.raw ?? l.message}</pre> : l.message}</td>
            </tr>
          ))}</tbody>
        </table>
        <Pager skip={skip} limit={50} total={query.data?.total ?? 0} onChange={setSkip} />
      </DataRegion>
    </SiemShell>
  );
}

function HuntsTab() {
  const client = useQueryClient();
  const toast = useToast();
  const query = useQuery({ queryKey: ["siem", "hunts"], queryFn: () => api<PageOf<Hunt>>("/siem/hunts", { query: { limit: 200 } }) });
  const unavailable = useUnavailable(query);
  const run = useMutation({
    mutationFn: (id: string) => api<{ hits?: number; matched?: number }>(`/siem/hunts/${id}/run`, { method: "POST" }),
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
  const query = useQuery({ queryKey: ["siem", "sources"], queryFn: () => api<PageOf<LogSource>>("/siem/sources", { query: { limit: 200 } }) });
  const unavailable = useUnavailable(query);
  return (
    <SiemShell unavailable={unavailable}>
    <DataRegion query={query} unavailable={unavailable} unavailableTitle="Log sources unavailable"
      queueText="Source statistics live in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No log sources configured">
      <table className="table" data-testid="sources-table">
        <thead><tr><th>Name</th><th>Kind</th><th>Format</th><th>Status</th><th>EPS</th><th>Events today</th><th>Last event</th></tr></thead>
        <tbody>{query.data?.items.map((s) => (
          <tr key={s.id}><td>{s.name}</td><td>{s.kind}</td><td>{s.format}</td><td>{s.status}</td><td>{s.eps.toFixed(2)}</td>
            <td>{s.events_today.toLocaleString()}</td><td>{formatTime(s.last_event_at)}</td></tr>
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
