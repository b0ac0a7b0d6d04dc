/** One line chart per telemetry metric (GET /cps/devices/{id}/telemetry, newest first → plotted oldest first). */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Telemetry } from "./types";

interface Series {
  metric: string;
  unit: string | null;
  points: Array<{ t: number; value: number }>;
}

function bySeries(items: Telemetry[]): Series[] {
  const series = new Map<string, Series>();
  for (const item of items) {
    const entry = series.get(item.metric) ?? { metric: item.metric, unit: item.unit ?? null, points: [] };
    entry.points.push({ t: new Date(item.timestamp).getTime(), value: item.value });
    series.set(item.metric, entry);
  }
  const all = [...series.values()];
  all.forEach((s) => s.points.sort((a, b) => a.t - b.t));
  return all.sort((a, b) => a.metric.localeCompare(b.metric));
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const STEPS = [1, 5, 10, 15, 30].map((n) => n * SECOND)
  .concat([1, 2, 5, 10, 15, 30].map((n) => n * MINUTE), [1, 2, 3, 6, 12, 24].map((n) => n * HOUR));
const MAX_TICKS = 6;

/** Evenly spaced ticks at a round step, labelled precisely enough that no two read the same. */
export function timeTicks(min: number, max: number): { ticks: number[]; label: (t: number) => string } {
  const span = Math.max(max - min, SECOND);
  const step = STEPS.find((s) => span / s <= MAX_TICKS) ?? STEPS[STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push(t);
  const options: Intl.DateTimeFormatOptions = step < MINUTE
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : span > 24 * HOUR
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
  return { ticks: ticks.length ? ticks : [min], label: (t) => new Date(t).toLocaleString(undefined, options) };
}

function MetricChart({ series }: { series: Series }) {
  const latest = series.points[series.points.length - 1];
  const axis = timeTicks(series.points[0].t, latest.t);
  return (
    <div className="card h-56" data-testid="telemetry-chart" data-metric={series.metric}>
      <div className="mb-1 flex items-baseline gap-2 text-sm">
        <h3 className="font-medium">{series.metric}</h3>
        <span className="text-xs text-slate-400">{series.points.length} readings</span>
        <span className="ml-auto tabular-nums text-slate-200">{latest.value}{series.unit ? ` ${series.unit}` : ""}</span>
      </div>
      <ResponsiveContainer width="100%" height="85%">
        <LineChart data={series.points}>
          <CartesianGrid stroke="#1e293b" />
          <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} ticks={axis.ticks} tickFormatter={axis.label} stroke="#64748b" fontSize={11} />
          <YAxis stroke="#64748b" fontSize={11} width={44} domain={["auto", "auto"]} />
          <Tooltip contentStyle={{ background: "#0f172a", border: "1px solid #334155" }} labelFormatter={(t) => new Date(Number(t)).toLocaleString()} />
          <Line type="monotone" dataKey="value" name={series.unit ?? series.metric} stroke="#38bdf8" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export function TelemetryCharts({ items }: { items: Telemetry[] }) {
  const series = bySeries(items);
  if (series.length === 0) return <p className="text-sm text-slate-400" data-testid="telemetry-empty">No telemetry received.</p>;
  return (
    <div className="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3">
      {series.map((s) => <MetricChart key={s.metric} series={s} />)}
    </div>
  );
}
