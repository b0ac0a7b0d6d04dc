/**
 * Network Analyzer (/network/analyzer, spec §24.3): a SIEM query over a range → KPIs, evidence and
 * a read-only `network_security` run (POST /network-analyzer/analyze, `agents:dispatch`).
 *
 * Opened with `?attack=<id>` (the command center's "Open in analyzer") it shows the imported
 * attack and offers its endpoints as the query. Analyzing is a pipeline write, so only dummy mode
 * blocks it and offers **Simulate** (`?preview=true`) instead; the analysis never blocks or
 * contains anything, whatever the context says. "Queue follow-up" dispatches the agent again
 * with the query as its task.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, applied, previewQuery } from "../../api/client";
import { useRuntime, useSession } from "../../app/session";
import { EmptyState, Page, readonlyReason } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Field } from "../../components/ui";
import { useSearchState } from "../../hooks/useSearchState";
import { AgentCard } from "../agents/AgentCard";
import { AnalyzerResult } from "./AnalyzerResult";
import { type AnalyzeRequest, type Analysis, type AnalyzerRange, RANGES, attackQuery, rangeLabel } from "./analyzer";

function ImportedContext({ id, onUse }: { id: string; onUse: (query: string) => void }) {
  const { can } = useSession();
  const query = useQuery({ queryKey: ["network", "attack", id], queryFn: () => api.GET("/network/attacks/{attack_id}", { params: { path: { attack_id: id } } }), enabled: can("alerts:read") });
  const attack = query.data;
  return (
    <div className="mb-4 flex flex-wrap items-center gap-3 rounded border border-sky-800 bg-sky-950/60 p-3 text-sm" data-testid="imported-context">
      <span className="rounded bg-sky-800 px-1.5 text-xs text-sky-50">IMPORTED</span>
      {attack ? (
        <span>Network attack <Link to={`/network?attack=${id}`}>{attack.title}</Link>{" "}
          <span className="font-mono text-slate-300">{attack.src_ip ?? "?"} → {attack.dst_ip ?? "?"}</span></span>
      ) : <span className="font-mono">{query.error ? `attack ${id} (details unavailable)` : `attack ${id}`}</span>}
      {attack && (
        <button className="btn ml-auto" type="button" data-testid="use-imported-query" onClick={() => onUse(attackQuery(attack.src_ip, attack.dst_ip))}>
          Use imported query
        </button>
      )}
    </div>
  );
}

function AgentStatus() {
  const query = useQuery({ queryKey: ["agents", "network_security"], queryFn: () => api.GET("/agents/{agent_name}", { params: { path: { agent_name: "network_security" } } }) });
  if (query.data) return <AgentCard agent={query.data} />;
  return <div className="card text-sm text-slate-400" data-testid="agent-status-unavailable">{query.error ? "Agent status unavailable" : "Loading agent status…"}</div>;
}

function FollowUp({ analysis, reason }: { analysis: Analysis; reason: string | null }) {
  const client = useQueryClient();
  const toast = useToast();
  const { kpis } = analysis;
  const follow = useMutation({
    mutationFn: () => applied(api.POST("/orchestrator/dispatch", { body: {
      agent: "network_security", priority: 5,
      prompt: `Follow up on network analysis (read-only): ${analysis.query} over ${rangeLabel(analysis.time_range)}; `
        + `${kpis.flows} flows, ${kpis.critical} critical, ${kpis.high} high, ${kpis.iocs} known IOC(s).`,
    } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["investigations"] }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <span className="inline-flex items-center gap-2">
      <span data-testid={reason ? "readonly-reason" : undefined} title={reason ?? undefined} className="inline-flex">
        <button className="btn" type="button" data-testid="queue-follow-up" disabled={Boolean(reason) || follow.isPending} onClick={() => follow.mutate()}
          aria-label={reason ? `Queue follow-up (${reason})` : "Queue follow-up"}>Queue follow-up</button>
      </span>
      {follow.data && <Link data-testid="follow-up-receipt" to={`/investigations/${follow.data.id}`}>follow-up {follow.data.status} →</Link>}
    </span>
  );
}

const DEFAULT_RANGE: AnalyzerRange = "24h";

function asRange(value: string): AnalyzerRange {
  return (RANGES as string[]).includes(value) ? (value as AnalyzerRange) : DEFAULT_RANGE;
}

export function NetworkAnalyzerPage() {
  const mode = useRuntime();
  const { can } = useSession();
  const toast = useToast();
  const client = useQueryClient();
  const { get, set } = useSearchState();
  const attackId = get("attack");
  // Query and range live in the URL: a reload, a shared link or a remount keeps what was chosen.
  const query = get("q");
  const setQuery = (q: string) => set({ q });
  const range = asRange(get("range"));
  const setRange = (r: AnalyzerRange) => set({ range: r === DEFAULT_RANGE ? null : r });
  const [note, setNote] = useState("");
  const analyze = useMutation({
    mutationFn: (preview: boolean) => {
      const context = attackId || note.trim() ? { attack_id: attackId || null, note: note.trim() || null } : null;
      const body: AnalyzeRequest = { query: query.trim(), time_range: range, context };
      return api.POST("/network-analyzer/analyze", { params: { query: previewQuery(preview) }, body });
    },
    onSuccess: (result) => {
      if (result.preview) return;
      void client.invalidateQueries({ queryKey: ["investigations"] });
      void client.invalidateQueries({ queryKey: ["agents"] });
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const dispatcher = can("agents:dispatch");
  const reason = mode.mode === "dummy" ? readonlyReason(mode) : null;
  const ready = Boolean(query.trim() || attackId) && !analyze.isPending;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    analyze.mutate(false);
  };
  return (
    <Page title="Network Analyzer" toolbar={<Link className="btn" to="/network">← Command center</Link>}>
      {attackId && <ImportedContext id={attackId} onUse={setQuery} />}
      <div className="mb-4 grid items-start gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,1fr)]">
        <form className="card" onSubmit={submit} aria-label="Analyze network traffic" data-testid="analyzer-form">
          <div className="flex flex-wrap items-end gap-3">
            <div className="min-w-[20rem] flex-1"><Field label="SIEM query">
              <input className="input w-full font-mono" data-testid="analyzer-query" value={query} maxLength={2000}
                placeholder={attackId ? "empty: the imported attack's endpoints" : 'e.g. dst_port:443 AND src_ip:"10.0.0.23"'}
                onChange={(e) => setQuery(e.target.value)} />
            </Field></div>
            <Field label="Range">
              <select className="input" data-testid="analyzer-range" value={range} onChange={(e) => setRange(e.target.value as AnalyzerRange)}>
                {RANGES.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </Field>
          </div>
          <div className="mt-2"><Field label="Context for the agent (optional)">
            <input className="input w-full" data-testid="analyzer-note" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
          </Field></div>
          {dispatcher ? (
            <div className="mt-3 flex flex-wrap items-center gap-2">
              <span data-testid={reason ? "readonly-reason" : undefined} title={reason ?? undefined} className="inline-flex">
                <button className="btn-primary" data-testid="analyze-submit" disabled={Boolean(reason) || !ready}
                  aria-label={reason ? `Analyze (${reason})` : "Analyze"}>Analyze</button>
              </span>
              {reason && (
                <button className="btn" type="button" data-testid="analyze-simulate" disabled={!ready} onClick={() => analyze.mutate(true)}>Simulate</button>
              )}
              {analyze.data && <FollowUp key={analyze.data.query} analysis={analyze.data} reason={reason} />}
              {attackId && <button className="btn" type="button" data-testid="clear-imported" onClick={() => set({ attack: null })}>Clear imported context</button>}
              <span className="text-xs text-slate-400">Read-only: the analysis never blocks or contains anything.</span>
            </div>
          ) : <p className="mt-3 text-sm text-slate-400" data-testid="analyzer-no-permission">Analyzing needs agents:dispatch.</p>}
        </form>
        <AgentStatus />
      </div>
      {analyze.isPending ? <p className="text-sm text-slate-400" data-testid="analyzer-running">Analyzing…</p>
        : analyze.data ? <AnalyzerResult analysis={analyze.data} />
        : <EmptyState text="Run an analysis" />}
    </Page>
  );
}
