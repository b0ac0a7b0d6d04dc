/**
 * The case summary (GET /cases/{id}/summary): the server recomputes it whenever the case's alerts
 * changed (correlation added one, an analyst linked or detached one), so this card is current on
 * every read. Indicators never include common observables (the server leaves them out).
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { Chip, formatTime } from "../components/ui";


export function CaseSummaryCard({ caseId }: { caseId: string }) {
  const query = useQuery({ queryKey: ["cases", "summary", caseId], queryFn: () => api.GET("/cases/{case_id}/summary", { params: { path: { case_id: caseId } } }) });
  const summary = query.data;
  if (!summary) return null;
  return (
    <section className="card" data-testid="case-brief" aria-label="Case summary">
      <h2 className="mb-2 flex items-baseline font-medium">
        Summary
        <span className="ml-auto text-xs font-normal text-slate-400" data-testid="case-brief-updated">
          {summary.backend} · {summary.alert_count} alert(s) · updated {formatTime(summary.computed_at)}
        </span>
      </h2>
      <p className="mb-2 text-sm text-slate-300" data-testid="case-brief-text">{summary.text}</p>
      {summary.techniques.length > 0 && (
        <ul className="mb-2 flex flex-wrap gap-1 text-xs" data-testid="case-brief-techniques">
          {summary.techniques.map((t) => (
            <li key={t.id}><Chip>{t.id}{t.name ? ` ${t.name}` : ""}{t.tactics.length ? ` · ${t.tactics.join(", ")}` : ""}</Chip></li>
          ))}
        </ul>
      )}
      {summary.processes.length > 0 && (
        <ul className="mb-2 space-y-1 font-mono text-xs text-slate-300" data-testid="case-brief-processes">
          {summary.processes.map((p, i) => (
            <li key={i} className="break-all">{p.parent ? `${p.parent} → ` : ""}{p.command_line || p.executable}</li>
          ))}
        </ul>
      )}
      {summary.indicators.length > 0 && (
        <p className="flex flex-wrap gap-1 text-sm" data-testid="case-brief-indicators">
          <span className="text-slate-400">Indicators</span>{summary.indicators.map((v) => <Chip key={v}>{v}</Chip>)}
        </p>
      )}
      {(summary.observables ?? []).length > 0 && (
        <p className="mt-1 flex flex-wrap gap-1 text-sm" data-testid="case-brief-observables">
          <span className="text-slate-400" title="Seen in the events; not an indicator until intel, an analyst or a rule says so">
            Observables</span>{(summary.observables ?? []).map((v) => <Chip key={v}>{v}</Chip>)}
        </p>
      )}
    </section>
  );
}
