/** Feed indicators an alert's event carried: value, feed, TLP, confidence, expiry (issue 17, spec §27.3). */
import type { IntelMatch } from "../../api/types";
import { formatTime } from "../../components/ui";

const TLP_CLASS: Record<string, string> = {
  red: "bg-red-900 text-red-100",
  amber: "bg-amber-800 text-amber-50",
  green: "bg-emerald-800 text-emerald-50",
  clear: "bg-slate-200 text-slate-900",
};

export function TlpBadge({ tlp }: { tlp: string }) {
  return <span className={`rounded px-1.5 py-0.5 text-xs font-semibold ${TLP_CLASS[tlp] ?? "bg-slate-700"}`}>TLP:{tlp.toUpperCase()}</span>;
}

export function IntelMatches({ matches }: { matches?: IntelMatch[] }) {
  if (!matches?.length) return null;
  return (
    <div className="card border border-red-800" data-testid="intel-matches">
      <h2 className="mb-2 font-medium">Threat intel matches</h2>
      <table className="table">
        <thead><tr><th>Indicator</th><th>Feed</th><th>TLP</th><th>Confidence</th><th>Expires</th></tr></thead>
        <tbody>
          {matches.map((m) => (
            <tr key={`${m.type}:${m.value}`} data-testid="intel-match">
              <td><span className="text-xs text-slate-400">{m.type}</span> <span className="font-mono break-all">{m.value}</span></td>
              <td>{m.feed ?? m.source}</td>
              <td><TlpBadge tlp={m.tlp} /></td>
              <td>{Math.round(m.confidence * 100)}%</td>
              <td className="whitespace-nowrap">{m.expires_at ? formatTime(m.expires_at) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
