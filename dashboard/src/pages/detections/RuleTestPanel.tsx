/** Runs the editor's YAML against pasted JSON events and/or stored log ids; nothing is stored. */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import type { RuleTestResult } from "../../api/types";

export const SAMPLE_EVENTS = `[
  {"EventID": 4688, "Image": "C:\\\\Windows\\\\System32\\\\whoami.exe", "CommandLine": "whoami /all", "Computer": "WS01"}
]`;

/** A JSON array, a single object, or one object per line; log ids are UUIDs separated by space or comma. */
export function parseEvents(text: string): Array<Record<string, unknown>> {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("[")) return JSON.parse(trimmed) as Array<Record<string, unknown>>;
  try {
    return [JSON.parse(trimmed) as Record<string, unknown>];
  } catch {
    return trimmed.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

function Results({ result }: { result: RuleTestResult }) {
  return (
    <div className="mt-3 space-y-2 text-sm" data-testid="rule-test-result" data-matched={result.matched}>
      <p>{result.matched} of {result.events} event(s) matched.</p>
      <ul className="space-y-1">
        {result.rules.map((r) => (
          <li key={r.id} data-testid="tested-rule" data-supported={r.supported}>
            <span className="font-medium">{r.title}</span>{" "}
            {r.supported ? <span className="text-emerald-300">compiles</span> : <span className="text-rose-300">unsupported: {r.reason}</span>}
          </li>
        ))}
      </ul>
      <table className="table">
        <thead><tr><th>#</th><th>Log</th><th>Matches</th></tr></thead>
        <tbody>{result.results.map((e) => (
          <tr key={e.index} data-testid="event-result">
            <td>{e.index}</td>
            <td className="font-mono text-xs">{e.log_id ?? "pasted"}</td>
            <td>{e.matches.length === 0 ? <span className="text-slate-500">no match</span> : e.matches.map((m) => (
              <div key={m.rule_id}><span className="text-amber-300">{m.title}</span> <code className="text-xs">{JSON.stringify(m.matched_fields)}</code></div>
            ))}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  );
}

export function RuleTestPanel({ yaml }: { yaml: string }) {
  const [events, setEvents] = useState(SAMPLE_EVENTS);
  const [logIds, setLogIds] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: (body: { yaml: string; events: Array<Record<string, unknown>>; log_ids: string[] }) =>
      api.POST("/detections/rules/test", { body }),
    onError: (e) => setProblem((e as Error).message),
  });
  const submit = () => {
    setProblem(null);
    let parsed: Array<Record<string, unknown>>;
    try {
      parsed = parseEvents(events);
    } catch (e) {
      setProblem(`Events are not valid JSON: ${(e as Error).message}`);
      return;
    }
    run.mutate({ yaml, events: parsed, log_ids: logIds.split(/[\s,]+/).filter(Boolean) });
  };
  return (
    <section className="card mt-3" data-testid="rule-test-panel" aria-label="Test the rule">
      <h3 className="mb-2 font-medium">Test panel</h3>
      <label className="text-xs text-slate-400" htmlFor="rule-test-events">Events (JSON array, object, or one object per line)</label>
      <textarea id="rule-test-events" className="input h-28 w-full font-mono text-xs" spellCheck={false}
        data-testid="rule-test-events" value={events} onChange={(e) => setEvents(e.target.value)} />
      <label className="mt-2 block text-xs text-slate-400" htmlFor="rule-test-logs">Stored log ids (optional, from SIEM search)</label>
      <input id="rule-test-logs" className="input w-full font-mono text-xs" data-testid="rule-test-log-ids" value={logIds} onChange={(e) => setLogIds(e.target.value)} />
      <button className="btn mt-2" data-testid="run-rule-test" disabled={run.isPending} onClick={submit}>Run test</button>
      {problem && <p className="mt-2 text-sm text-rose-300" role="alert" data-testid="rule-test-error">{problem}</p>}
      {run.data && !problem && <Results result={run.data} />}
    </section>
  );
}
