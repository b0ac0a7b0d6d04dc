/** Security overview: open alerts, cases and CPS devices, 24 h trend, recent alerts (/dashboard/stats); agent fleet (/agents). */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { Area, AreaChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "../api/client";
import type { DashboardStats } from "../api/types";
import { useSession } from "../app/session";
import { DataRegion, Page, useUnavailable } from "../components/Runtime";
import { Chip, SEVERITIES, SEVERITY_COLOURS, SeverityBadge, formatTime } from "../components/ui";
import { AgentFleetPanel } from "./agents/AgentFleetPanel";

function Kpi({ label, value, colour }: { label: string; value: number | string; colour?: string }) {
  return (
    <div className="card" data-testid="kpi">
      <div className="text-xs text-slate-400 uppercase">{label}</div>
      <div className="mt-1 text-3xl font-semibold" style={{ color: colour }}>{value}</div>
    </div>
  );
}

function Trend({ stats }: { stats: DashboardStats }) {
  // Two-digit hours: labels of one width are thinned evenly (0:00 … 9:00 were narrower, so more of them showed).
  const data = stats.trend.map((p) => ({ hour: `${String(new Date(p.hour).getHours()).padStart(2, "0")}:00`, ...p.counts }));
  const quiet = stats.trend.every((p) => Object.values(p.counts).every((n) => n === 0));
  const latest = stats.recent_alerts[0]?.last_seen_at; // recent alerts come latest event first
  return (
    <div className="card h-72">
      <h2 className="mb-2 flex items-baseline font-medium">Alerts by event time, last 24 hours
        {quiet && latest && (
          <span className="ml-auto text-xs font-normal text-slate-400" data-testid="trend-latest">
            none in this window; latest alert activity {formatTime(latest)} · <Link to="/alerts">alerts</Link>
          </span>
        )}
      </h2>
      <ResponsiveContainer width="100%" height="88%">
        <AreaChart data={data}>
          <CartesianGrid stroke="#1e293b" />
          <XAxis dataKey="hour" stroke="#64748b" fontSize={11} />
          <YAxis stroke="#64748b" fontSize={11} allowDecimals={false} />
          <Tooltip contentStyle={{ background: "#0f172a", border: "1px solid #334155" }} />
          {SEVERITIES.map((s) => (
            <Area key={s} type="monotone" dataKey={s} stackId="1" stroke={SEVERITY_COLOURS[s]} fill={SEVERITY_COLOURS[s]} fillOpacity={0.35} isAnimationActive={false} />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}

function SeverityPie({ stats }: { stats: DashboardStats }) {
  const data = SEVERITIES.map((s) => ({ name: s, value: stats.open_alerts[s] ?? 0 })).filter((d) => d.value > 0);
  return (
    <div className="card h-72">
      <h2 className="mb-2 font-medium">Open alerts by severity</h2>
      {data.length === 0 ? <p className="text-sm text-slate-400">No open alerts.</p> : (
        <ResponsiveContainer width="100%" height="88%">
          <PieChart>
            <Pie data={data} dataKey="value" nameKey="name" innerRadius={50} outerRadius={90} isAnimationActive={false}>
              {data.map((d) => <Cell key={d.name} fill={SEVERITY_COLOURS[d.name]} />)}
            </Pie>
            <Tooltip contentStyle={{ background: "#0f172a", border: "1px solid #334155" }} />
            <Legend formatter={(name: string, entry) => `${name} (${(entry.payload as { value?: number } | undefined)?.value ?? 0})`} />
          </PieChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}

function CpsFleet({ fleet }: { fleet: DashboardStats["cps_devices"] }) {
  return (
    <div className="card" data-testid="cps-fleet">
      <h2 className="mb-2 flex items-center font-medium">
        CPS/IoT fleet <Link to="/cps" className="ml-auto text-xs font-normal">devices →</Link>
      </h2>
      {!fleet ? (
        <p className="text-sm text-slate-400">The showcase data holds no CPS devices.</p>
      ) : fleet.total === 0 ? (
        <p className="text-sm text-slate-400">No devices registered.</p>
      ) : (
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className="text-slate-400">Devices</dt><dd>{fleet.total} ({fleet.trusted} trusted)</dd>
          <dt className="text-slate-400">Health</dt>
          <dd>{Object.entries(fleet.health).map(([k, n]) => `${n} ${k}`).join(" · ")}</dd>
          <dt className="text-slate-400">Attestation</dt>
          <dd>{Object.entries(fleet.attestation).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(" · ") || "—"}</dd>
          <dt className="text-slate-400">Average risk</dt><dd>{fleet.average_risk}</dd>
        </dl>
      )}
    </div>
  );
}

/** Top correlated network attacks (`case`/`triage` chip), each opening the Network page on it. */
function TopAttacks({ attacks, showcase }: { attacks: DashboardStats["top_network_attacks"]; showcase: boolean }) {
  return (
    <div className="card" data-testid="top-attacks">
      <h2 className="mb-2 flex items-center font-medium">
        Correlated network attacks <Link to="/network" className="ml-auto text-xs font-normal">network →</Link>
      </h2>
      {attacks.length === 0 ? (
        <p className="text-sm text-slate-400">{showcase ? "The showcase data holds no correlated attacks." : "No correlated attacks."}</p>
      ) : (
        <ul className="space-y-1 text-sm">
          {attacks.map((a) => (
            <li key={a.id} className="flex items-center gap-2" data-testid="top-attack">
              <SeverityBadge severity={a.severity} />
              <Link to={`/network?attack=${a.id}`} className="truncate">{a.title}</Link>
              <span className="ml-auto whitespace-nowrap text-xs text-slate-400">{Math.round(a.confidence * 100)}%</span>
              <Chip>{a.status === "case" ? "case" : "triage"}</Chip>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function OverviewPage() {
  const { can } = useSession();
  const query = useQuery({ queryKey: ["dashboard", "stats"], queryFn: () => api.GET("/dashboard/stats") });
  const unavailable = useUnavailable(query);
  const stats = query.data;
  const quiet = stats ? stats.trend.every((p) => Object.values(p.counts).every((n) => n === 0)) && stats.recent_alerts.length === 0 : false;
  return (
    <Page title="Security Overview" unavailable={unavailable}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Live overview unavailable"
        queueText="Statistics are computed from the database, which is not reachable right now." empty={quiet}
        emptyText="No alert activity in the last 24 hours">
        {stats && (
          <div className="flex flex-col gap-4">
            <div className="grid grid-cols-2 gap-3 md:grid-cols-6">
              {(["critical", "high", "medium", "low"] as const).map((s) => (
                <Kpi key={s} label={`${s} open`} value={stats.open_alerts[s] ?? 0} colour={SEVERITY_COLOURS[s]} />
              ))}
              <Kpi label="Open cases" value={stats.open_cases} />
              <Kpi label="CPS devices" value={stats.cps_devices?.total ?? "—"} />
            </div>
            <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
              <Trend stats={stats} />
              <SeverityPie stats={stats} />
            </div>
            <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
              <div className="card">
                <h2 className="mb-2 font-medium">Recent alerts</h2>
                <ul className="space-y-1 text-sm" data-testid="recent-alerts">
                  {stats.recent_alerts.map((a) => (
                    <li key={a.id} className="flex gap-3">
                      <SeverityBadge severity={a.severity} />
                      <Link to={`/alerts/${a.id}`} className="truncate">{a.title}</Link>
                      <span className="ml-auto whitespace-nowrap text-slate-500" title="event time">{formatTime(a.last_seen_at)}</span>
                    </li>
                  ))}
                </ul>
              </div>
              <div className="flex flex-col gap-4">
                <CpsFleet fleet={stats.cps_devices} />
                <TopAttacks attacks={stats.top_network_attacks ?? []} showcase={(stats.unavailable_sections ?? []).includes("top_network_attacks")} />
              </div>
            </div>
          </div>
        )}
      </DataRegion>
      {can("agents:read") && <div className="mt-4"><AgentFleetPanel /></div>}
    </Page>
  );
}
