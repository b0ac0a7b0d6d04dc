/**
 * Network Command Center (/network, spec §24.3): KPIs and filters over the correlated attack
 * queue (GET /network/attacks), the focused attack's evidence and actions, pending critical
 * approvals, and the agent mesh, which is DB-independent and stays visible when the queue is
 * unavailable.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { useSearchState } from "../../hooks/useSearchState";
import { DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { Chip, Field, Pager, SEVERITIES, SEVERITY_COLOURS, SeverityBadge, activatable, formatTime } from "../../components/ui";
import { AttackEvidence } from "./AttackEvidence";
import { CriticalApprovals } from "./CriticalApprovals";
import { MeshPanel } from "./MeshPanel";
import { type Attack, CATEGORIES, FAMILIES, STATUSES, label, percent } from "./types";

const LIMIT = 50;
const FILTERS = [
  { key: "severity", label: "Severity", values: [...SEVERITIES] },
  { key: "category", label: "Category", values: CATEGORIES },
  { key: "family", label: "Telemetry", values: FAMILIES },
  { key: "status", label: "Status", values: STATUSES },
] as const;

function Kpi({ label: title, value, colour }: { label: string; value: number | string; colour?: string }) {
  return (
    <div className="card" data-testid="kpi">
      <div className="text-xs text-slate-400 uppercase">{title}</div>
      <div className="mt-1 text-2xl font-semibold" style={{ color: colour }}>{value}</div>
    </div>
  );
}

function Kpis({ items, total }: { items: Attack[]; total: number }) {
  const count = (severity: string) => items.filter((a) => a.severity === severity).length;
  const strongest = items.reduce((best, a) => Math.max(best, a.confidence), 0);
  return (
    <div className="mb-4 grid grid-cols-2 gap-3 md:grid-cols-5" data-testid="network-kpis">
      <Kpi label="Attacks" value={total} />
      <Kpi label="Critical" value={count("critical")} colour={SEVERITY_COLOURS.critical} />
      <Kpi label="High" value={count("high")} colour={SEVERITY_COLOURS.high} />
      <Kpi label="In a case" value={items.filter((a) => a.status === "case").length} />
      <Kpi label="Top confidence" value={items.length ? percent(strongest) : "—"} />
    </div>
  );
}

function Queue({ items, focused, onFocus }: { items: Attack[]; focused: string; onFocus: (id: string) => void }) {
  return (
    <div className="overflow-x-auto">
      <table className="table" data-testid="attack-queue">
        <thead><tr><th>Severity</th><th>Attack</th><th>Category</th><th>Telemetry</th><th>Confidence</th><th>Alerts</th><th>Status</th><th>Last seen</th></tr></thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id} data-testid="attack-row" aria-selected={a.id === focused} {...activatable(() => onFocus(a.id))}
              className={`cursor-pointer hover:bg-slate-800/50 ${a.id === focused ? "bg-slate-800/70" : ""}`}>
              <td><SeverityBadge severity={a.severity} /></td>
              <td className="font-medium">{a.title}</td>
              <td className="whitespace-nowrap"><Chip>{label(a.category)}</Chip></td>
              <td className="space-x-1">{a.telemetry_families.map((f) => <Chip key={f}>{f}</Chip>)}</td>
              <td>{percent(a.confidence)}</td>
              <td>{a.alert_ids.length}</td>
              <td>{a.status}</td>
              <td className="whitespace-nowrap">{formatTime(a.last_seen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function NetworkPage() {
  const { get, set, skip } = useSearchState();
  const filters = Object.fromEntries(FILTERS.map((f) => [f.key, get(f.key)]));
  const query = useQuery({
    queryKey: ["network", "attacks", filters, skip],
    queryFn: () => api.GET("/network/attacks", { params: { query: { ...filters, skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  const focused = get("attack") || items[0]?.id || "";
  return (
    <Page title="Network Command Center" unavailable={unavailable}>
      {!unavailable && query.data && <Kpis items={items} total={query.data.total} />}
      <div className="mb-3 flex flex-wrap items-end gap-3" data-testid="network-filters">
        {FILTERS.map((f) => (
          <Field key={f.key} label={f.label}>
            <select className="input" data-testid={`filter-${f.key}`} value={get(f.key)} disabled={unavailable}
              onChange={(e) => set({ [f.key]: e.target.value, attack: null })}>
              <option value="">All</option>{f.values.map((v) => <option key={v} value={v}>{label(v)}</option>)}
            </select>
          </Field>
        ))}
      </div>
      <div className="mb-4 grid gap-4 2xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div>
          <DataRegion query={query} unavailable={unavailable} unavailableTitle="Attack queue unavailable"
            queueText="Correlated attacks are stored in the database, which is not reachable right now; the agent mesh below is probed live."
            empty={items.length === 0} emptyText="No correlated attacks">
            <Queue items={items} focused={focused} onFocus={(id) => set({ attack: id, skip })} />
            <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
          </DataRegion>
        </div>
        {!unavailable && focused && <AttackEvidence key={focused} id={focused} unavailable={unavailable} />}
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <MeshPanel />
        <CriticalApprovals unavailable={unavailable} />
      </div>
    </Page>
  );
}
