/** One agent of the fleet: status, circuit, model/backend, tools, queue, last activity; tools detail. */
import { useState } from "react";
import type { Agent } from "../../api/types";
import { Chip, formatTime } from "../../components/ui";
import { StatusPill } from "./shared";

interface Props {
  agent: Agent;
  onDispatch?: (name: string) => void;
}

function ToolsDetail({ agent }: { agent: Agent }) {
  return (
    <div data-testid="agent-tools" className="mt-3 border-t border-slate-800 pt-3 text-xs">
      <p className="mb-1 text-slate-400">Tool domains</p>
      <div className="flex flex-wrap gap-1">{agent.tool_domains.map((d) => <Chip key={d}>{d}</Chip>)}</div>
      <p className="mt-2 mb-1 text-slate-400">Tools ({agent.tools.length})</p>
      <div className="flex flex-wrap gap-1 font-mono">{agent.tools.map((t) => <Chip key={t}>{t}</Chip>)}</div>
      {agent.missing_tools.length > 0 && (
        <p className="mt-2 text-amber-300" data-testid="agent-missing-tools">Missing tool domains: {agent.missing_tools.join(", ")}</p>
      )}
    </div>
  );
}

export function AgentCard({ agent, onDispatch }: Props) {
  const [open, setOpen] = useState(false);
  return (
    <article className="card flex flex-col" data-testid="agent-card" data-agent={agent.name}>
      <header className="flex items-start gap-2">
        <div>
          <h2 className="font-medium text-slate-100">{agent.display_name}</h2>
          <p className="font-mono text-xs text-slate-500">{agent.name} · :{agent.port}</p>
        </div>
        <span className="ml-auto"><StatusPill status={agent.status} testId="agent-status" /></span>
      </header>
      <p className="mt-2 text-sm text-slate-400">{agent.role}</p>
      <dl className="mt-3 grid grid-cols-[7rem_1fr] gap-x-2 gap-y-1 text-sm">
        <dt className="text-slate-500">Circuit</dt>
        <dd><StatusPill status={agent.circuit_state} testId="agent-circuit" /></dd>
        <dt className="text-slate-500">Model</dt>
        <dd className="font-mono text-xs" data-testid="agent-model">{agent.model}</dd>
        <dt className="text-slate-500">Tools</dt>
        <dd>{agent.tools.length} in {agent.tool_domains.length} domain(s)</dd>
        <dt className="text-slate-500">Queue</dt>
        <dd data-testid="agent-queue">{agent.queue_depth} pending</dd>
        <dt className="text-slate-500">Runs (24 h)</dt>
        <dd>{agent.investigations_24h}</dd>
        <dt className="text-slate-500">Last activity</dt>
        <dd>{formatTime(agent.last_activity_at)}</dd>
      </dl>
      <div className="mt-auto flex gap-2 pt-3">
        <button className="btn" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="agent-tools-toggle">
          {open ? "Hide tools" : "Tools"}
        </button>
        {onDispatch && agent.enabled && (
          <button className="btn" onClick={() => onDispatch(agent.name)} data-testid="agent-dispatch">Dispatch…</button>
        )}
      </div>
      {open && <ToolsDetail agent={agent} />}
    </article>
  );
}
