/**
 * The A2A agent mesh (GET /agents/mesh): live reachability probes that never touch the database,
 * so this panel stays up while the attack queue is unavailable.
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { POLL_MS, useSession } from "../../app/session";

export function MeshPanel() {
  const { can } = useSession();
  const query = useQuery({
    queryKey: ["agents", "mesh"],
    queryFn: () => api.GET("/agents/mesh"),
    enabled: can("agents:read"),
    refetchInterval: POLL_MS,
  });
  if (!can("agents:read")) return null;
  const nodes = query.data?.nodes ?? [];
  const up = nodes.filter((n) => n.reachable).length;
  return (
    <div className="card" data-testid="agent-mesh">
      <h2 className="mb-2 flex items-center font-medium">
        Agent mesh
        {query.data && <span className="ml-auto text-xs font-normal text-slate-400">{query.data.mode} · {up}/{nodes.length} reachable</span>}
      </h2>
      {query.isPending ? (
        <p className="text-sm text-slate-400">Probing agents…</p>
      ) : query.error ? (
        <p className="text-sm text-rose-200">Mesh probe failed: {(query.error as Error).message}</p>
      ) : nodes.length === 0 ? (
        <p className="text-sm text-slate-400">No agents enabled</p>
      ) : (
        <ul className="grid grid-cols-1 gap-1 text-xs sm:grid-cols-2">
          {nodes.map((n) => (
            <li key={n.name} data-testid="mesh-node" data-reachable={n.reachable} className="flex items-center gap-2 rounded bg-slate-800/60 px-2 py-1">
              <span className={`h-2 w-2 rounded-full ${n.reachable ? "bg-emerald-400" : "bg-rose-500"}`} />
              <span className="font-medium">{n.name}</span>
              <span className="ml-auto truncate text-slate-500">{n.url}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
