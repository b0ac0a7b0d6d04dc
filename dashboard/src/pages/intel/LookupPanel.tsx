/** Lookup (local record + provider enrichment) and lexical "similar IOCs" search. */
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import type { LookupResult } from "../../api/types";
import { SimulatedLabel } from "../../components/ExecutionSteps";
import { useToast } from "../../components/Toasts";
import { Chip } from "../../components/ui";

function LookupAnswer({ result }: { result: LookupResult }) {
  return (
    <div className="mt-2 text-sm" data-testid="lookup-result">
      <p><Chip>{result.type}</Chip> <code>{result.value}</code> — {result.ioc ? `known locally (${result.linked_alert_count} linked alert(s))` : "never seen by this SOC"}
        {result.cached && <span className="text-slate-400"> · cached</span>}</p>
      <ul className="mt-1 space-y-1">
        {result.enrichment.map((r) => (
          <li key={r.provider} data-testid="enrichment-row">
            <strong>{r.provider}</strong>: {r.verdict}{r.score != null && ` (${Math.round(r.score * 100)}%)`} {r.simulated && <SimulatedLabel />}
            {r.summary && <span className="text-slate-400"> — {r.summary}</span>}{r.error && <span className="text-rose-300"> — {r.error}</span>}
          </li>
        ))}
        {result.enrichment.length === 0 && <li className="text-slate-400">No enrichment providers answered.</li>}
      </ul>
    </div>
  );
}

export function LookupPanel({ disabled }: { disabled: boolean }) {
  const toast = useToast();
  const [value, setValue] = useState("");
  const lookup = useMutation({
    mutationFn: () => api.POST("/iocs/lookup", { body: { value } }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  const similar = useMutation({
    mutationFn: () => api.GET("/iocs/similar", { params: { query: { q: value } } }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (e: FormEvent) => { e.preventDefault(); lookup.mutate(); similar.mutate(); };
  return (
    <section className="card mb-4" aria-label="IOC lookup" data-testid="lookup-panel">
      <form className="flex flex-wrap items-end gap-2" onSubmit={submit}>
        <label className="flex flex-1 flex-col gap-1 text-xs text-slate-400">Look up an indicator (IP, domain, URL, hash, e-mail…)
          <input className="input font-mono" data-testid="lookup-input" value={value} disabled={disabled} required onChange={(e) => setValue(e.target.value)} />
        </label>
        <button className="btn-primary" disabled={disabled || lookup.isPending}>Look up</button>
      </form>
      {lookup.data && <LookupAnswer result={lookup.data} />}
      {similar.data && (
        <div className="mt-2 text-sm" data-testid="similar-result">
          <p className="text-slate-400" title={similar.data.note}>Similar ({similar.data.method}): {similar.data.items.length === 0 && "none"}</p>
          <ul>{similar.data.items.map((h) => <li key={h.ioc.id}><code>{h.ioc.value}</code> · {h.reason} · {Math.round(h.score * 100)}%</li>)}</ul>
        </div>
      )}
    </section>
  );
}
