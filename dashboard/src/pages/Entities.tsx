/** Endpoints (/entities/hosts) and UEBA (/entities/users): entities seen in 7 days, riskiest first. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { useSearchState } from "../hooks/useSearchState";
import { DataRegion, Page, useUnavailable } from "../components/Runtime";
import { Chip, Field, Pager, formatTime } from "../components/ui";

const LIMIT = 50;

interface Kind {
  title: string;
  path: "/entities/hosts" | "/entities/users";
  noun: string;
  emptyText: string;
  unavailableTitle: string;
  /** SIEM query field for "events" links. */
  field: "host" | "user";
}

export const ENDPOINTS: Kind = { title: "Endpoints", path: "/entities/hosts", noun: "Host", emptyText: "No endpoints seen", unavailableTitle: "Endpoint inventory unavailable", field: "host" };
export const UEBA: Kind = { title: "UEBA", path: "/entities/users", noun: "User", emptyText: "No user activity", unavailableTitle: "User analytics unavailable", field: "user" };

function riskColour(risk: number): string {
  if (risk >= 75) return "#f43f5e";
  if (risk >= 50) return "#f97316";
  if (risk >= 25) return "#eab308";
  return "#38bdf8";
}

export function RiskBar({ risk }: { risk: number }) {
  return (
    <div className="flex items-center gap-2" data-testid="risk-bar" data-risk={risk}>
      <div className="h-2 w-32 rounded bg-slate-800" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={risk} aria-label="Risk">
        <div className="h-2 rounded" style={{ width: `${Math.min(100, Math.max(0, risk))}%`, background: riskColour(risk) }} />
      </div>
      <span className="w-8 text-right tabular-nums">{risk}</span>
    </div>
  );
}

export function EntitiesPage({ kind }: { kind: Kind }) {
  const { get, set, skip } = useSearchState();
  const q = get("q");
  const [search, setSearch] = useState(q);
  const query = useQuery({
    queryKey: ["entities", kind.path, q, skip],
    queryFn: () => api.GET(kind.path, { params: { query: { q, skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <Page title={kind.title} unavailable={unavailable}>
      <form role="search" className="mb-3 flex items-end gap-3" onSubmit={(e) => { e.preventDefault(); set({ q: search }); }}>
        <Field label={`${kind.noun} name contains`}>
          <input className="input w-64" data-testid="search-input" value={search} disabled={unavailable} onChange={(e) => setSearch(e.target.value)} />
        </Field>
        <button className="btn" disabled={unavailable}>Search</button>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle={kind.unavailableTitle}
        queueText="The inventory is computed from stored events and alerts; it returns once the database is reachable."
        empty={items.length === 0} emptyText={q ? `No ${kind.noun.toLowerCase()}s match` : kind.emptyText}>
        <table className="table" data-testid="entities-table">
          <thead><tr><th>{kind.noun}</th><th>Risk</th><th>Open / all alerts</th><th title="Events that happened, or were ingested, in the last 7 days (an import of old logs counts)">Recent events</th><th>Top techniques</th><th title="Event time of the latest event or alert">Last seen (event)</th><th /></tr></thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.name} data-testid="entity-row">
                <td className="font-medium text-slate-100">
                  {e.name}
                  {e.service_account && <span className="ml-2" data-testid="service-account" title="A built-in or machine account: the system's activity, not a person's"><Chip>service account</Chip></span>}
                </td>
                <td><RiskBar risk={e.risk} /></td>
                <td>{e.open_alert_count} / {e.alert_count}</td>
                <td>{e.event_count.toLocaleString()}</td>
                <td className="space-x-1">{e.top_techniques.length ? e.top_techniques.map((t) => <Chip key={t}>{t}</Chip>) : "—"}</td>
                <td className="whitespace-nowrap">{formatTime(e.last_seen)}</td>
                <td className="space-x-2 whitespace-nowrap">
                  <Link to={`/alerts?asset=${encodeURIComponent(`${kind.field}:${e.name}`)}`} data-testid="entity-alerts">alerts</Link>
                  <Link to={`/siem?range=all&q=${encodeURIComponent(`${kind.field}:"${e.name}"`)}`}>events</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </Page>
  );
}

export function EndpointsPage() {
  return <EntitiesPage key="hosts" kind={ENDPOINTS} />;
}

export function UebaPage() {
  return <EntitiesPage key="users" kind={UEBA} />;
}
