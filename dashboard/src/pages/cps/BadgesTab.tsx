/** Badges: the access allow-list consulted for every badge event (spec §18 access control). */
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { DataRegion, useUnavailable } from "../../components/Runtime";
import { Chip, formatTime } from "../../components/ui";
import { CpsShell, useFleetSummary } from "./CpsShell";
import { useCpsPolling } from "./shared";
import type { Badge } from "./types";

function expired(badge: Badge): boolean {
  return !!badge.valid_until && new Date(badge.valid_until).getTime() < Date.now();
}

export function BadgesTab() {
  const refetchInterval = useCpsPolling();
  const query = useQuery({ queryKey: ["cps", "badges"], queryFn: () => api.GET("/cps/badges", { params: { query: { limit: 200 } } }), refetchInterval });
  const unavailable = useUnavailable(query, useFleetSummary());
  const items = query.data?.items ?? [];
  return (
    <CpsShell unavailable={unavailable}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Badge allow-list unavailable"
        queueText="Badge decisions need the allow-list in the database, which is not reachable right now."
        empty={items.length === 0} emptyText="No badges on the allow-list">
        <table className="table" data-testid="badges-table">
          <thead><tr><th>Badge</th><th>Holder</th><th>Zones</th><th>State</th><th>Valid until</th></tr></thead>
          <tbody>
            {items.map((b) => (
              <tr key={b.id} data-testid="badge-row">
                <td className="font-mono text-xs">{b.badge_id}</td>
                <td>{b.holder}</td>
                <td className="space-x-1">{(b.zone_ids ?? []).map((z) => <Chip key={z}>{z}</Chip>)}</td>
                <td>{!b.enabled ? "disabled" : expired(b) ? "expired" : "enabled"}</td>
                <td className="text-xs">{b.valid_until ? formatTime(b.valid_until) : "no expiry"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </DataRegion>
    </CpsShell>
  );
}
