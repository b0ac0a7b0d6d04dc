/**
 * An investigation's outcome: summary, verdict, findings with their cited tool calls, next steps.
 *
 * Evidence cites tool calls as `[tool#n]` or `[tool#n; events id, id]` (the n-th call of that tool
 * by the agent named before the colon, and the stored events it rests on); each citation links to
 * that step of the timeline so the claim can be checked.
 */
import type { Investigation, InvestigationEvent } from "../../api/types";
import { Chip } from "../../components/ui";
import { ProposedActions } from "./ProposedActions";
import { percent, verdictOf } from "./shared";

interface Finding {
  hypothesis?: string | null;
  evidence: string;
  confidence?: number | null;
}

const CITATION = /\[([a-z0-9_]+)#(\d+)(?:;\s*events\s+([^\]]+))?\]/gi;

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/** The timeline step a `[tool#n]` citation refers to, if recorded. */
function citedStep(events: InvestigationEvent[], agent: string, tool: string, n: number): InvestigationEvent | undefined {
  const calls = events.filter((e) => e.event_type === "tool_call" && e.payload.tool === tool && e.payload.agent === agent);
  return calls[n - 1];
}

function Evidence({ finding, events, agent }: { finding: Finding; events: InvestigationEvent[]; agent: string }) {
  const owner = /^([a-z_]+):\s/.exec(finding.evidence)?.[1] ?? agent;
  const citations = [...finding.evidence.matchAll(CITATION)];
  return (
    <li data-testid="finding" className="rounded border border-slate-800 p-2">
      {finding.hypothesis && <p className="text-slate-300">Hypothesis: {finding.hypothesis}</p>}
      <p>{finding.evidence.replace(CITATION, "").trim()}</p>
      <div className="mt-1 flex flex-wrap items-center gap-2 text-xs text-slate-400">
        <span>confidence {percent(finding.confidence)}</span>
        {citations.map(([label, tool, n, cited]) => {
          const step = citedStep(events, owner, tool, Number(n));
          const eventIds = cited ? cited.split(",").map((id) => id.trim()).filter(Boolean) : [];
          return (
            <span key={label} className="flex items-center gap-1">
              {step ? (
                <a href={`#event-${step.seq}`} data-testid="citation" title={JSON.stringify(step.payload.arguments)} className="font-mono">
                  {tool}#{n} → step {step.seq}
                </a>
              ) : <Chip>{tool}#{n}</Chip>}
              {eventIds.length > 0 && (
                <span data-testid="cited-events" title={eventIds.join("\n")}>
                  {eventIds.length} event{eventIds.length === 1 ? "" : "s"}
                </span>
              )}
            </span>
          );
        })}
      </div>
    </li>
  );
}

export function InvestigationResult({ inv, events }: { inv: Investigation; events: InvestigationEvent[] }) {
  const result = inv.result ?? {};
  const findings = list<Finding>(result.findings);
  const steps = list<string>(result.recommendations);
  const actions = list<Record<string, unknown>>(result.proposed_actions);
  const skipped = list<string>(result.skipped_agents);
  return (
    <div className="flex flex-col gap-4">
      <div className="card" data-testid="investigation-summary">
        <h2 className="mb-2 font-medium">Summary</h2>
        <p className="text-sm whitespace-pre-wrap text-slate-300">{typeof result.summary === "string" ? result.summary : inv.error ?? "No result yet."}</p>
        <p className="mt-2 flex flex-wrap gap-3 text-sm">
          <span>Verdict: <strong data-testid="investigation-verdict">{verdictOf(inv) ?? "—"}</strong></span>
          <span>Confidence: <strong data-testid="investigation-confidence">{percent(inv.confidence)}</strong></span>
          {typeof result.severity === "string" && <span>Severity: {result.severity}</span>}
          {list<string>(result.mitre_techniques).map((t) => <Chip key={t}>{t}</Chip>)}
        </p>
        {skipped.length > 0 && <p className="mt-1 text-xs text-amber-300">Skipped (circuit open): {skipped.join(", ")}</p>}
      </div>
      <div className="card">
        <h2 className="mb-2 font-medium">Findings and evidence</h2>
        {findings.length ? (
          <ul className="space-y-2 text-sm" data-testid="findings">
            {findings.map((f, i) => <Evidence key={i} finding={f} events={events} agent={inv.agent} />)}
          </ul>
        ) : <p className="text-sm text-slate-400">No findings recorded.</p>}
      </div>
      <div className="card" data-testid="next-steps">
        <h2 className="mb-2 font-medium">Recommended next steps</h2>
        {steps.length || actions.length ? (
          <ul className="list-disc space-y-1 pl-5 text-sm">
            {steps.map((s) => <li key={s}>{s}</li>)}
            <ProposedActions investigationId={inv.id} actions={actions} />
          </ul>
        ) : <p className="text-sm text-slate-400">No recommendations.</p>}
      </div>
    </div>
  );
}
