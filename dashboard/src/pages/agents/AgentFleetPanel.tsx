/** Overview panel: the agent fleet at a glance (GET /agents) and a collapsed Quick Dispatch. */
import { useState } from "react";
import { Link } from "react-router-dom";
import { useSession } from "../../app/session";
import { useUnavailable } from "../../components/Runtime";
import { DispatchForm } from "./DispatchForm";
import { StatusPill, backendLabel, isReady, useAgents } from "./shared";

export function AgentFleetPanel() {
  const { can } = useSession();
  const query = useAgents();
  const unavailable = useUnavailable(query);
  const [open, setOpen] = useState(false);
  const list = query.data;
  const ready = list?.items.filter(isReady).length ?? 0;
  return (
    <div className="card" data-testid="agent-fleet">
      <h2 className="mb-2 flex items-center font-medium">
        Agent fleet <Link to="/agents" className="ml-auto text-xs font-normal">all agents →</Link>
      </h2>
      {unavailable ? (
        <p className="text-sm text-rose-200" data-testid="agent-fleet-unavailable">Fleet status unavailable — the database is not reachable.</p>
      ) : query.isPending ? (
        <p className="text-sm text-slate-400">Loading…</p>
      ) : !list || list.items.length === 0 ? (
        <p className="text-sm text-slate-400">{query.error ? `Could not load the fleet: ${(query.error as Error).message}` : "Agents are not configured"}</p>
      ) : (
        <>
          <p className="text-sm" data-testid="agent-fleet-summary">
            <strong>{ready}</strong> of {list.total} ready · backend <strong>{backendLabel(list)}</strong>
          </p>
          <ul className="mt-2 flex flex-wrap gap-1.5 text-xs">
            {list.items.filter((a) => a.enabled).map((a) => (
              <li key={a.name} className="flex items-center gap-1 rounded bg-slate-800/60 px-1.5 py-0.5">
                {a.display_name} <StatusPill status={a.status} />
              </li>
            ))}
          </ul>
          {can("agents:dispatch") && (
            <details className="mt-3 border-t border-slate-800 pt-2" data-testid="quick-dispatch" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
              <summary className="cursor-pointer text-sm text-slate-300">Quick Dispatch</summary>
              <div className="mt-2">{open && <DispatchForm agents={list.items} unavailable={unavailable} />}</div>
            </details>
          )}
        </>
      )}
    </div>
  );
}
