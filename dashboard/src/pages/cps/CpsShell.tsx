/** The /cps frame: title, runtime banner, fleet KPIs (always read) and the Devices / Zones / Badges tabs. */
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api } from "../../api/client";
import { Page } from "../../components/Runtime";
import { useSearchState } from "../../hooks/useSearchState";
import { riskColour, useCpsFeed, useCpsPolling } from "./shared";
import type { FleetSummary } from "./types";

export const CPS_TABS = { devices: "Devices", zones: "Zones & conduits", badges: "Badges" } as const;
export type CpsTab = keyof typeof CPS_TABS;

export function useCpsTab(): CpsTab {
  const tab = useSearchState().get("tab");
  return tab in CPS_TABS ? (tab as CpsTab) : "devices";
}

function Kpi({ label, value, colour, hint }: { label: string; value: number | string; colour?: string; hint?: string }) {
  return (
    <div className="card py-3" data-testid="cps-kpi" title={hint}>
      <div className="text-xs uppercase text-slate-400">{label}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums" style={{ color: colour }}>{value}</div>
    </div>
  );
}

function SummaryKpis({ summary }: { summary: FleetSummary }) {
  const { health, attestation } = summary;
  const pending = (attestation.pending ?? 0) + (attestation.unknown ?? 0);
  return (
    <div className="mb-4 grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-8" data-testid="fleet-summary">
      <Kpi label="Devices" value={summary.total} hint={`${summary.trusted} trusted`} />
      <Kpi label="Online" value={health.online ?? 0} colour="#22c55e" />
      <Kpi label="Stale" value={health.stale ?? 0} colour="#eab308" />
      <Kpi label="Offline" value={health.offline ?? 0} colour="#f43f5e" />
      <Kpi label="Verified" value={attestation.verified ?? 0} colour="#22c55e" />
      <Kpi label="Failed" value={attestation.failed ?? 0} colour="#f43f5e" hint={`${attestation.revoked ?? 0} revoked`} />
      <Kpi label="Pending" value={pending} colour="#38bdf8" hint={`${attestation.unknown ?? 0} never attested`} />
      <Kpi label="Avg risk" value={summary.average_risk.toFixed(1)} colour={riskColour(summary.average_risk)} />
    </div>
  );
}

/** The fleet summary is read on every tab; tabs observe it too (same cache entry, one request). */
export function useFleetSummary() {
  const refetchInterval = useCpsPolling();
  return useQuery({ queryKey: ["cps", "summary"], queryFn: () => api.GET("/cps/fleet/summary"), refetchInterval });
}

interface ShellProps {
  /** The page is unavailable: the summary or the active tab's reads answered 503. */
  unavailable: boolean;
  toolbar?: ReactNode;
  children: ReactNode;
}

export function CpsShell({ unavailable, toolbar, children }: ShellProps) {
  const { set } = useSearchState();
  const tab = useCpsTab();
  useCpsFeed();
  const summary = useFleetSummary();
  return (
    <Page title="CPS/IoT" unavailable={unavailable} toolbar={toolbar}>
      {summary.data && !unavailable && <SummaryKpis summary={summary.data} />}
      <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
        {(Object.keys(CPS_TABS) as CpsTab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className="tab" onClick={() => set({ tab: t })}>{CPS_TABS[t]}</button>
        ))}
      </div>
      {children}
    </Page>
  );
}
