/** Agents: the fleet of this site (GET /agents) — KPIs, per-agent cards, tools, dispatch. */
import { useState } from "react";
import type { AgentList } from "../../api/types";
import { useSession } from "../../app/session";
import { DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { AgentCard } from "./AgentCard";
import { DispatchForm } from "./DispatchForm";
import { backendLabel, useAgents } from "./shared";

function Kpi({ label, value, note }: { label: string; value: number | string; note?: string }) {
  return (
    <div className="card" data-testid="kpi" data-kpi={label.toLowerCase()}>
      <div className="text-xs text-slate-400 uppercase">{label}</div>
      <div className="mt-1 text-3xl font-semibold">{value}</div>
      {note && <div className="mt-1 text-xs text-slate-500">{note}</div>}
    </div>
  );
}

function FleetKpis({ list }: { list: AgentList }) {
  const count = (status: string) => list.items.filter((a) => a.status === status).length;
  const tools = new Set(list.items.flatMap((a) => a.tools)).size;
  const offlineReady = list.llm_configured ? undefined : `${count("unconfigured")} ready on the offline analyst`;
  return (
    <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
      <Kpi label="Total" value={list.total} />
      <Kpi label="Online" value={count("online")} note={offlineReady} />
      <Kpi label="Disabled" value={count("disabled")} />
      <Kpi label="Tools" value={tools} note="distinct tools across agents" />
      <Kpi label="Sites" value={1} note="this site (federation: Sites page)" />
    </div>
  );
}

/** Which backend runs the agents: the offline analyst without an LLM is normal, not an error. */
function BackendNote({ list }: { list: AgentList }) {
  return (
    <div data-testid="agents-backend" data-llm={list.llm_configured} className="card text-sm">
      <span className="text-slate-400">Active backend: </span>
      <strong>{backendLabel(list)}</strong>
      {!list.llm_configured && (
        <p className="mt-1 text-slate-400">
          Agents are not configured with an LLM. Investigations still run on the deterministic offline analyst: it calls
          the same tools and cites them as evidence, but does not reason in free text.
        </p>
      )}
    </div>
  );
}

export function AgentsPage() {
  const { can } = useSession();
  const query = useAgents();
  const unavailable = useUnavailable(query);
  const [dispatchTo, setDispatchTo] = useState<string | null>(null);
  const list = query.data;
  const canDispatch = can("agents:dispatch") && !unavailable;
  return (
    <Page title="Agents" unavailable={unavailable}
      toolbar={can("agents:dispatch") && (
        <button className="btn-primary" data-testid="open-dispatch" disabled={!canDispatch || !list} onClick={() => setDispatchTo("orchestrator")}>
          Dispatch task
        </button>
      )}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Agent fleet unavailable"
        queueText="Fleet status reads recent activity from the database, which is not reachable right now; queued tasks wait on the bus."
        empty={(list?.items.length ?? 0) === 0} emptyText="Agents are not configured">
        {list && (
          <div className="flex flex-col gap-4">
            <FleetKpis list={list} />
            <BackendNote list={list} />
            {dispatchTo !== null && (
              <div className="card" data-testid="agent-dispatch-panel">
                <h2 className="mb-2 font-medium">Dispatch a task</h2>
                <DispatchForm key={dispatchTo} agents={list.items} unavailable={unavailable} agent={dispatchTo} onClose={() => setDispatchTo(null)} />
              </div>
            )}
            <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3" data-testid="agent-cards">
              {list.items.map((a) => (
                <AgentCard key={a.name} agent={a} onDispatch={canDispatch ? setDispatchTo : undefined} />
              ))}
            </div>
          </div>
        )}
      </DataRegion>
    </Page>
  );
}
