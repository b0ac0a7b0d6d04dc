/** Executions: every run with its per-step status; simulated connector results are labelled. */
import { EXECUTION_STATUSES, oneOf } from "../../api/enums";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { useSearchState } from "../../hooks/useSearchState";
import { ExecutionSteps, StatusText } from "../../components/ExecutionSteps";
import { DataRegion, useUnavailable } from "../../components/Runtime";
import { Chip, Field, Pager, activatable, formatTime } from "../../components/ui";
import { SoarShell } from "./SoarShell";

const LIMIT = 50;

export function ExecutionsTab() {
  const { get, set, skip } = useSearchState();
  const status = get("status");
  const query = useQuery({
    queryKey: ["executions", "list", status, skip],
    queryFn: () => api.GET("/executions", { params: { query: { status: oneOf(EXECUTION_STATUSES, status), skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const [open, setOpen] = useState<string | null>(null);
  const items = query.data?.items ?? [];
  return (
    <SoarShell unavailable={unavailable}>
      <div className="mb-3">
        <Field label="Status">
          <select className="input w-48" value={status} disabled={unavailable} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>{EXECUTION_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Executions unavailable"
        queueText="Execution records live in the database, which is not reachable right now."
        empty={items.length === 0} emptyText={status ? "No executions with this status" : "No playbook executions yet"}>
        <table className="table" data-testid="executions-table">
          <thead><tr><th>Playbook</th><th>Status</th><th>Steps</th><th>Trigger</th><th>Case</th><th>Started</th></tr></thead>
          <tbody>
            {items.map((x) => (
              <Fragment key={x.id}>
                <tr data-testid="execution-row" className="cursor-pointer hover:bg-slate-900" {...activatable(() => setOpen(open === x.id ? null : x.id))}>
                  <td><button className="text-sky-300">{x.playbook_name}</button> <span className="text-xs text-slate-500">v{x.playbook_version}</span>
                    {x.preview && <> <Chip>preview</Chip></>}</td>
                  <td><StatusText status={x.status} /></td>
                  <td>{x.steps.filter((s) => s.status === "completed").length}/{x.steps.length} done</td>
                  <td>{x.trigger} · {x.triggered_by ?? "—"}</td>
                  <td>{x.case_id ? <Link to={`/cases/${x.case_id}`} onClick={(e) => e.stopPropagation()}>open case</Link> : "—"}</td>
                  <td className="whitespace-nowrap">{formatTime(x.started_at ?? x.created_at)}</td>
                </tr>
                {open === x.id && (
                  <tr><td colSpan={6} className="bg-slate-900/60">
                    <ExecutionSteps execution={x} />
                    {x.error && <p className="mt-2 text-sm text-rose-300">{x.error}</p>}
                  </td></tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </SoarShell>
  );
}
