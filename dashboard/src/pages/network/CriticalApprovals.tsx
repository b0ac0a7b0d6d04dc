/** Pending critical approvals next to the attack queue (GET /approvals); decisions stay on /approvals. */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { POLL_MS, useSession } from "../../app/session";
import { formatTime } from "../../components/ui";

export function CriticalApprovals({ unavailable }: { unavailable: boolean }) {
  const { can } = useSession();
  const allowed = can("approvals:read");
  const query = useQuery({
    queryKey: ["approvals", "critical-pending"],
    queryFn: () => api.GET("/approvals", { params: { query: { status: "pending", risk_level: "critical", limit: 5 } } }),
    enabled: allowed && !unavailable,
    refetchInterval: POLL_MS,
  });
  if (!allowed || unavailable) return null;
  const items = query.data?.items ?? [];
  return (
    <div className="card" data-testid="critical-approvals">
      <h2 className="mb-2 flex items-center font-medium">
        Critical approvals <Link to="/approvals" className="ml-auto text-xs font-normal">review in Approvals →</Link>
      </h2>
      {query.error ? (
        <p className="text-sm text-rose-200">Could not load approvals: {(query.error as Error).message}</p>
      ) : items.length === 0 ? (
        <p className="text-sm text-slate-400">{query.isPending ? "Loading…" : "No critical approval is waiting"}</p>
      ) : (
        <ul className="space-y-1 text-sm">
          {items.map((a) => (
            <li key={a.id} data-testid="critical-approval" className="flex flex-wrap items-center gap-2">
              <span className="font-medium">{a.action_type}</span> <span className="text-slate-400">{a.target ?? "—"}</span>
              <span className="ml-auto text-xs text-slate-500">by {a.requested_by} · expires {formatTime(a.expires_at)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
