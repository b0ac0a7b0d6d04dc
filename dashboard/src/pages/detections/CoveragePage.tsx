/** ATT&CK coverage (/detections/coverage): per tactic, the techniques enabled rules cover against those the
 * alerts of a time range or a case show; both export as ATT&CK Navigator layers (issue 17). */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api } from "../../api/client";
import type { CoverageCell } from "../../api/types";
import { DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, Field } from "../../components/ui";

const RANGES: Array<[string, number]> = [["Last 24 hours", 1], ["Last 7 days", 7], ["Last 30 days", 30], ["All time", 0]];
const DAY_MS = 86_400_000;

type CellState = "both" | "rules" | "alerts";
const STATE_CLASS: Record<CellState, string> = {
  both: "border-emerald-500 bg-emerald-900/60",
  rules: "border-sky-600 bg-sky-950",
  alerts: "border-red-500 bg-red-950",
};
const STATE_LABEL: Record<CellState, string> = {
  both: "covered and observed",
  rules: "covered by rules",
  alerts: "observed, no enabled rule",
};

function stateOf(cell: CoverageCell): CellState {
  if (cell.rules && cell.alerts) return "both";
  return cell.rules ? "rules" : "alerts";
}

function Cell({ cell, version }: { cell: CoverageCell; version: string }) {
  const state = stateOf(cell);
  const titles = cell.rule_titles?.length ? `\nRules: ${cell.rule_titles.join("; ")}` : "";
  return (
    <li data-testid="coverage-cell" data-technique={cell.id} data-state={state}
      title={`${cell.id} ${cell.name ?? ""}: ${STATE_LABEL[state]}${titles}`}
      className={`rounded border px-2 py-1 text-xs ${STATE_CLASS[state]}`}>
      <div className="font-mono font-semibold">{cell.id}</div>
      <div className="truncate text-slate-300">{cell.name ?? `not in ATT&CK v${version}`}</div>
      <div className="text-slate-400">{cell.rules} rule{cell.rules === 1 ? "" : "s"} · {cell.alerts} alert{cell.alerts === 1 ? "" : "s"}</div>
    </li>
  );
}

export function CoveragePage() {
  const toast = useToast();
  const [days, setDays] = useState(7);
  const [caseId, setCaseId] = useState("");
  const scope = useMemo(() => ({
    since: days ? new Date(Date.now() - days * DAY_MS).toISOString() : undefined,
    case_id: caseId.trim() || undefined,
  }), [days, caseId]);
  const query = useQuery({
    queryKey: ["attack", "coverage", scope],
    queryFn: () => api.GET("/attack/coverage", { params: { query: scope } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const exportLayer = async (source: "rules" | "alerts") => {
    try {
      const layer = await api.GET("/attack/coverage/layer", { params: { query: { source, ...scope } } });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(layer, null, 2)], { type: "application/json" }));
      link.download = `aurorasoc-${source}-layer.json`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };
  const data = query.data;
  return (
    <Page title="ATT&CK coverage" unavailable={unavailable}
      toolbar={<>
        <button className="btn" data-testid="export-rules-layer" disabled={unavailable} onClick={() => void exportLayer("rules")}>Navigator layer: rules</button>
        <button className="btn" data-testid="export-alerts-layer" disabled={unavailable} onClick={() => void exportLayer("alerts")}>Navigator layer: alerts</button>
      </>}>
      <div className="mb-3 flex flex-wrap items-end gap-3" role="search" aria-label="Alert scope">
        <Field label="Alerts with events in">
          <select className="input" data-testid="coverage-range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map(([label, value]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </Field>
        <Field label="Case id (optional)">
          <input className="input w-80 font-mono" value={caseId} onChange={(e) => setCaseId(e.target.value)} placeholder="all cases" />
        </Field>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Coverage unavailable"
        queueText="Rules and alerts are stored in the database, which is not reachable right now."
        empty={!data?.tactics.length} emptyText="No enabled rule names a technique and no alert shows one">
        {data && (
          <>
            <div className="mb-3 flex flex-wrap items-center gap-4 text-sm" data-testid="coverage-summary">
              <span><strong data-testid="covered-count">{data.covered}</strong> techniques covered by enabled rules</span>
              <span><strong data-testid="observed-count">{data.observed}</strong> observed in alerts ({data.scope})</span>
              <span>ATT&CK v{data.attack_version}</span>
              {(Object.keys(STATE_LABEL) as CellState[]).map((s) => (
                <span key={s} className={`rounded border px-2 py-0.5 text-xs ${STATE_CLASS[s]}`}>{STATE_LABEL[s]}</span>
              ))}
            </div>
            {data.observed_uncovered.length > 0 && (
              <p className="mb-3 text-sm" data-testid="coverage-gaps">Observed without an enabled rule:{" "}
                {data.observed_uncovered.map((t) => <Chip key={t}>{t}</Chip>)}</p>
            )}
            <div className="flex gap-2 overflow-x-auto pb-2" data-testid="attack-matrix">
              {data.tactics.map((column) => (
                <section key={column.tactic} className="w-44 shrink-0" data-testid="tactic-column" data-tactic={column.tactic}>
                  <h2 className="mb-1 text-xs font-semibold tracking-wide text-slate-300 uppercase">{column.tactic.replace(/-/g, " ")}</h2>
                  <ul className="space-y-1">{column.techniques.map((cell) => <Cell key={cell.id} cell={cell} version={data.attack_version} />)}</ul>
                </section>
              ))}
            </div>
          </>
        )}
      </DataRegion>
    </Page>
  );
}
