/** Zones (IEC 62443 SL, fail mode) and the conduits between them; isolating one files an approval. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { useRuntime } from "../../app/session";
import { DataRegion, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, formatTime } from "../../components/ui";
import { CpsShell, useFleetSummary } from "./CpsShell";
import { GatedButton, realOnlyReason, useCpsPolling } from "./shared";
import type { Conduit, Zone } from "./types";

/** Isolation is high impact: the request files an approval; the conduit changes once it is approved. */
function IsolateConduit({ conduit, unavailable }: { conduit: Conduit; unavailable: boolean }) {
  const client = useQueryClient();
  const toast = useToast();
  const mode = useRuntime();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState("");
  const isolate = useMutation({
    mutationFn: () => api.POST("/cps/conduits/{conduit_id}/isolate", { params: { path: { conduit_id: conduit.id } }, body: { reason: reason || null } }),
    onSuccess: () => {
      toast(`Isolation of ${conduit.name} is waiting for approval`, "success");
      void client.invalidateQueries({ queryKey: ["approvals"] });
    },
    onError: (e) => toast((e as Error).message, "error"),
    onSettled: () => setConfirming(false),
  });
  if (conduit.status === "isolated") return <span className="text-xs text-slate-400">isolated</span>;
  if (isolate.data) {
    return <Link to="/approvals" className="text-xs text-amber-300 underline" data-testid="isolate-requested">awaiting approval</Link>;
  }
  if (confirming) {
    return (
      <span className="flex gap-2">
        <input className="input w-48 text-xs" placeholder="Reason for the approver" aria-label="Isolation reason"
          data-testid="isolate-reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        <button className="btn-primary bg-rose-700" data-testid="isolate-confirm" disabled={isolate.isPending} onClick={() => isolate.mutate()}>
          Request isolation
        </button>
        <button className="btn" onClick={() => setConfirming(false)}>Cancel</button>
      </span>
    );
  }
  return <GatedButton label="Isolate" permission="cps:write" unavailable={unavailable} testId="isolate-conduit"
    reason={realOnlyReason(mode, "conduit isolation")} onRun={() => setConfirming(true)} />;
}

function ZonesTable({ zones }: { zones: Zone[] }) {
  if (zones.length === 0) return <p className="text-sm text-slate-400">No zones defined.</p>;
  return (
    <table className="table" data-testid="zones-table">
      <thead><tr><th>Zone</th><th>Security level</th><th>Fail mode</th><th>Site</th><th>Created</th></tr></thead>
      <tbody>
        {zones.map((z) => (
          <tr key={z.id} data-testid="zone-row">
            <td>{z.name}</td><td><Chip>{z.security_level}</Chip></td><td>{z.fail_mode}</td><td>{z.site_id ?? "—"}</td>
            <td className="text-xs">{formatTime(z.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConduitsTable({ conduits, zoneName, unavailable }: { conduits: Conduit[]; zoneName: (id: string) => string; unavailable: boolean }) {
  if (conduits.length === 0) return <p className="text-sm text-slate-400">No conduits defined.</p>;
  return (
    <table className="table" data-testid="conduits-table">
      <thead><tr><th>Conduit</th><th>From → to</th><th>Protocols</th><th>Status</th><th>Action</th></tr></thead>
      <tbody>
        {conduits.map((c) => (
          <tr key={c.id} data-testid="conduit-row">
            <td>{c.name}</td>
            <td>{zoneName(c.from_zone_id)} → {zoneName(c.to_zone_id)}</td>
            <td className="space-x-1">{(c.protocols ?? []).map((p) => <Chip key={p}>{p}</Chip>)}</td>
            <td data-testid="conduit-status" className={c.status === "isolated" ? "text-rose-300" : ""}>{c.status}</td>
            <td><IsolateConduit conduit={c} unavailable={unavailable} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ZonesTab() {
  const refetchInterval = useCpsPolling();
  const zones = useQuery({ queryKey: ["cps", "zones"], queryFn: () => api.GET("/cps/zones", { params: { query: { limit: 200 } } }), refetchInterval });
  const conduits = useQuery({ queryKey: ["cps", "conduits"], queryFn: () => api.GET("/cps/conduits", { params: { query: { limit: 200 } } }), refetchInterval });
  const unavailable = useUnavailable(zones, conduits, useFleetSummary());
  const zoneItems = zones.data?.items ?? [];
  const conduitItems = conduits.data?.items ?? [];
  // Conduits name zones by id or by name: show the name either way.
  const zoneName = (id: string) => zoneItems.find((z) => z.id === id)?.name ?? id;
  const region = {
    isPending: zones.isPending || conduits.isPending,
    error: zones.error ?? conduits.error,
    refetch: () => { void conduits.refetch(); return zones.refetch(); },
  };
  return (
    <CpsShell unavailable={unavailable}>
      <DataRegion query={region} unavailable={unavailable} unavailableTitle="Zones unavailable"
        queueText="Zone and conduit definitions live in the database, which is not reachable right now."
        empty={zoneItems.length === 0 && conduitItems.length === 0} emptyText="No zones or conduits defined">
        <div className="grid gap-4 xl:grid-cols-2">
          <div className="card"><h2 className="mb-2 font-medium">Zones</h2><ZonesTable zones={zoneItems} /></div>
          <div className="card">
            <h2 className="mb-2 font-medium">Conduits</h2>
            <ConduitsTable conduits={conduitItems} zoneName={zoneName} unavailable={unavailable} />
          </div>
        </div>
      </DataRegion>
    </CpsShell>
  );
}
