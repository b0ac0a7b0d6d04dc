/**
 * Sites (/sites, spec §20): this deployment and, with federation on, its peers and link health
 * (GET /system/topology). With federation off the API answers only the local site; the page
 * says "Federation disabled" instead of drawing an empty mesh.
 */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { DataRegion, EmptyState, Page, useUnavailable } from "../components/Runtime";
import { Chip, formatTime } from "../components/ui";
import type { Site, SiteLink } from "./network/types";

const TONES: Record<string, string> = {
  healthy: "bg-emerald-900 text-emerald-100",
  degraded: "bg-amber-900 text-amber-100",
  down: "bg-rose-900 text-rose-100",
};

function Health({ status }: { status: string }) {
  return <span data-status={status} className={`rounded px-1.5 py-0.5 text-xs ${TONES[status] ?? "bg-slate-800 text-slate-300"}`}>{status}</span>;
}

function SitesTable({ sites }: { sites: Site[] }) {
  return (
    <table className="table" data-testid="sites-table">
      <thead><tr><th>Site</th><th>ID</th><th>Tier</th><th>Agents</th><th>Status</th><th>Last heartbeat</th></tr></thead>
      <tbody>
        {sites.map((s) => (
          <tr key={s.site_id} data-testid="site-row">
            <td className="font-medium">{s.name} {s.is_local && <Chip>this site</Chip>}</td>
            <td className="font-mono text-xs">{s.site_id}</td>
            <td>{s.tier}</td>
            <td>{s.agent_count}</td>
            <td><Health status={s.status} /></td>
            <td className="whitespace-nowrap">{formatTime(s.last_heartbeat_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LinksTable({ links }: { links: SiteLink[] }) {
  if (links.length === 0) return <p className="text-sm text-slate-400">No peer has been heard yet</p>;
  return (
    <table className="table" data-testid="links-table">
      <thead><tr><th>Link</th><th>Between</th><th>Health</th><th>Latency</th><th>Last seen</th></tr></thead>
      <tbody>
        {links.map((l) => (
          <tr key={l.link_id} data-testid="link-row">
            <td className="font-mono text-xs">{l.link_id}</td>
            <td>{l.site_a} ↔ {l.site_b}</td>
            <td><Health status={l.status} /></td>
            <td>{l.latency_ms === null || l.latency_ms === undefined ? "—" : `${l.latency_ms.toFixed(1)} ms`}</td>
            <td className="whitespace-nowrap">{formatTime(l.last_seen_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SitesPage() {
  const query = useQuery({ queryKey: ["sites", "topology"], queryFn: () => api.GET("/system/topology") });
  const unavailable = useUnavailable(query);
  const topo = query.data;
  return (
    <Page title="Sites" unavailable={unavailable}
      toolbar={topo && <span data-testid="federation-state"><Chip>{topo.federation_enabled ? "Federation on" : "Federation off"}</Chip></span>}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Site registry unavailable"
        queueText="Sites and link health are stored in the database, which is not reachable right now."
        empty={false} emptyText="">
        {topo && (
          <div className="space-y-4">
            <div className="card"><h2 className="mb-2 font-medium">Sites</h2><SitesTable sites={topo.sites} /></div>
            <div className="card">
              <h2 className="mb-2 font-medium">Link health</h2>
              {topo.federation_enabled ? <LinksTable links={topo.links} /> : (
                <EmptyState text="Federation disabled">
                  <p className="mt-1 text-xs">This site works alone. Set FEDERATION_ENABLED=true (with AURORA_NATS_URL) to join a mesh.</p>
                </EmptyState>
              )}
            </div>
          </div>
        )}
      </DataRegion>
    </Page>
  );
}
