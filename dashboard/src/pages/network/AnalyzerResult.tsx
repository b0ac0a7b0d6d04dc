/**
 * One Network Analyzer answer: KPI row, findings and reasoning (the `network_security` run,
 * rendered like an investigation), and the evidence behind them (newest matching events and the
 * known IOCs among their endpoints). A preview has KPIs and evidence but no run.
 */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import type { Investigation } from "../../api/types";
import { Chip, SEVERITY_COLOURS, SeverityBadge, formatTime } from "../../components/ui";
import { InvestigationResult } from "../agents/InvestigationResult";
import { StatusPill, duration } from "../agents/shared";
import { type Analysis, rangeLabel } from "./analyzer";

const UNSETTLED = ["pending", "running"];

function Kpi({ title, value, colour, testId }: { title: string; value: number; colour?: string; testId: string }) {
  return (
    <div className="card" data-testid="kpi">
      <div className="text-xs text-slate-400 uppercase">{title}</div>
      <div className="mt-1 text-2xl font-semibold" style={{ color: colour }} data-testid={testId}>{value}</div>
    </div>
  );
}

function Kpis({ analysis }: { analysis: Analysis }) {
  const { kpis } = analysis;
  return (
    <div className="mb-4 grid grid-cols-2 gap-3 md:grid-cols-4" data-testid="analyzer-kpis">
      <Kpi title="Critical" value={kpis.critical} colour={SEVERITY_COLOURS.critical} testId="kpi-critical" />
      <Kpi title="High" value={kpis.high} colour={SEVERITY_COLOURS.high} testId="kpi-high" />
      <Kpi title="Known IOCs" value={kpis.iocs} testId="kpi-iocs" />
      <Kpi title="Flows" value={kpis.flows} testId="kpi-flows" />
    </div>
  );
}

function Evidence({ analysis }: { analysis: Analysis }) {
  return (
    <div className="card" data-testid="analyzer-evidence">
      <h2 className="mb-2 font-medium">Evidence</h2>
      <div className="mb-3 flex flex-wrap gap-1.5" data-testid="analyzer-iocs">
        {analysis.iocs.length ? analysis.iocs.map((i) => (
          <Link key={i.id} to={`/threat-intel?q=${encodeURIComponent(i.value)}`}><Chip>{i.value} · {Math.round(i.confidence * 100)}%</Chip></Link>
        )) : <span className="text-sm text-slate-400">No known IOCs among the matched endpoints.</span>}
      </div>
      {analysis.events.length ? (
        <div className="overflow-x-auto">
          <table className="table" data-testid="analyzer-events">
            <thead><tr><th>Time</th><th>Severity</th><th>Flow</th><th>Source</th><th>Message</th></tr></thead>
            <tbody>
              {analysis.events.map((e) => (
                <tr key={e.id} data-testid="analyzer-event">
                  <td className="whitespace-nowrap">{formatTime(e.timestamp)}</td>
                  <td><SeverityBadge severity={e.severity} /></td>
                  <td className="font-mono text-xs whitespace-nowrap">{e.src_ip ?? "?"}:{e.src_port ?? ""} → {e.dst_ip ?? "?"}:{e.dst_port ?? ""}</td>
                  <td><Chip>{e.product ?? e.source}</Chip></td>
                  <td className="max-w-md truncate" title={e.message ?? ""}>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {analysis.kpis.flows > analysis.events.length && (
            <p className="mt-2 text-xs text-slate-400">
              Newest {analysis.events.length} of {analysis.kpis.flows}; <Link to={`/siem?q=${encodeURIComponent(analysis.query)}&range=${analysis.time_range}`}>open in SIEM</Link>
            </p>
          )}
        </div>
      ) : <p className="text-sm text-slate-400">No events match in this range.</p>}
    </div>
  );
}

/** The run as returned, polled only while an LLM-backed run is still queued or running. */
function useRun(initial: Investigation): Investigation {
  const poll = useQuery({
    queryKey: ["investigations", "detail", initial.id],
    queryFn: () => api.GET("/investigations/{investigation_id}", { params: { path: { investigation_id: initial.id } } }),
    enabled: UNSETTLED.includes(initial.status),
    refetchInterval: (q) => (UNSETTLED.includes(q.state.data?.status ?? initial.status) ? 3000 : false),
  });
  return poll.data ?? initial;
}

function Reasoning({ initial }: { initial: Investigation }) {
  const inv = useRun(initial);
  return (
    <div data-testid="analyzer-reasoning">
      <p className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <StatusPill status={inv.status} testId="analyzer-run-status" />
        <span>network_security · backend {inv.backend ?? "—"} · {duration(inv)}</span>
        <Link to={`/investigations/${inv.id}`} data-testid="analyzer-investigation-link">open investigation →</Link>
      </p>
      {UNSETTLED.includes(inv.status)
        ? <p className="text-sm text-slate-400">The agent is working; its steps stream on the investigation page.</p>
        : <InvestigationResult inv={inv} events={[]} />}
    </div>
  );
}

export function AnalyzerResult({ analysis }: { analysis: Analysis }) {
  return (
    <div data-testid="analyzer-result">
      <p className="mb-2 flex flex-wrap items-center gap-2 text-sm text-slate-400">
        {analysis.preview && <span className="rounded bg-amber-900 px-1.5 text-xs text-amber-100" data-testid="analyzer-simulated">SIMULATED</span>}
        <span className="font-mono text-slate-300" data-testid="analyzer-effective-query">{analysis.query}</span>
        <span>· {rangeLabel(analysis.time_range)}</span>
        {analysis.preview && <span>· nothing was run or stored ({analysis.mode} mode)</span>}
      </p>
      <Kpis analysis={analysis} />
      <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
        {analysis.investigation ? <Reasoning initial={analysis.investigation} /> : (
          <div className="card text-sm text-slate-400" data-testid="analyzer-reasoning">
            Simulated: a read-only network_security run would start with permissions {String(analysis.effects[0]?.permissions ?? "")}.
          </div>
        )}
        <Evidence analysis={analysis} />
      </div>
    </div>
  );
}
