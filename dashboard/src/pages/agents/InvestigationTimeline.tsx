/** The step-by-step record of an investigation (GET /investigations/{id}/events), oldest first. */
import type { ReactNode } from "react";
import type { InvestigationEvent } from "../../api/types";
import { Chip, formatTime } from "../../components/ui";
import { percent } from "./shared";

type Payload = Record<string, unknown>;

const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <details className="mt-1" open={label === "Arguments"}>
      <summary className="cursor-pointer text-xs text-slate-400">{label}</summary>
      <pre className="mt-1 max-h-64 overflow-auto rounded bg-slate-950 p-2 text-xs text-slate-300">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

function Body({ type, p }: { type: string; p: Payload }): ReactNode {
  switch (type) {
    case "agent_started":
      return <p>started on <Chip>{text(p.backend)}</Chip>: {text(p.task)}</p>;
    case "plan":
      return <p className="italic text-slate-300">{text(p.thought)}</p>;
    case "delegation":
      return <p>delegates to <strong>{text(p.to)}</strong>: {text(p.task)}</p>;
    case "tool_call":
      return (
        <div>
          <p>calls <span className="font-mono text-sky-300">{text(p.tool)}</span></p>
          <Json label="Arguments" value={p.arguments} />
          <Json label="Result" value={p.result} />
        </div>
      );
    case "model_message":
      return <pre className="max-h-48 overflow-auto text-xs whitespace-pre-wrap text-slate-300">{text(p.content)}</pre>;
    case "agent_result":
    case "remote_result": {
      const result = (p.result ?? {}) as Payload;
      return (
        <div>
          <p>{text(result.summary ?? "")} <span className="text-slate-400">confidence {percent(result.confidence as number | undefined)}</span></p>
          <Json label="Result" value={result} />
        </div>
      );
    }
    case "verdict":
      return <p>verdict <strong data-testid="event-verdict">{text(p.verdict)}</strong> at {percent(p.confidence as number)} on {text(p.backend)}</p>;
    case "operator_override":
      return <p>set <strong>{text(p.to)}</strong> (was {text(p.from)}): {text(p.note)}</p>;
    default: {
      const rest = Object.entries(p).filter(([k]) => k !== "agent");
      return <p className="text-slate-300">{rest.map(([k, v]) => `${k}: ${text(v)}`).join(" · ")}</p>;
    }
  }
}

export function InvestigationTimeline({ events }: { events: InvestigationEvent[] }) {
  if (events.length === 0) return <p className="text-sm text-slate-400">No steps recorded yet.</p>;
  return (
    <ol className="space-y-2" data-testid="investigation-timeline">
      {events.map((e) => {
        const p = e.payload as Payload;
        return (
          <li key={e.seq} id={`event-${e.seq}`} data-testid="investigation-event" data-event-type={e.event_type}
            className="rounded border border-slate-800 p-2 text-sm target:border-sky-500">
            <div className="mb-1 flex flex-wrap items-center gap-2 text-xs text-slate-400">
              <span className="font-mono">#{e.seq}</span>
              <Chip>{e.event_type.replace(/_/g, " ")}</Chip>
              <span className="font-mono text-slate-300">{text(p.agent ?? "")}</span>
              <span className="ml-auto">{formatTime(e.created_at)}</span>
            </div>
            <Body type={e.event_type} p={p} />
          </li>
        );
      })}
    </ol>
  );
}
