/** Playbooks: the list, the selected playbook's YAML, validation and a previewed run. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import { RunPlaybook } from "../../components/RunPlaybook";
import { ActionButton, DataRegion, useUnavailable } from "../../components/Runtime";
import { Chip, SeverityBadge } from "../../components/ui";
import { PlaybookEditor } from "./PlaybookEditor";
import { SoarShell } from "./SoarShell";

type Selection = { kind: "none" } | { kind: "new" } | { kind: "open"; id: string };

export function PlaybooksTab() {
  const query = useQuery({ queryKey: ["playbooks", "list", "all"], queryFn: () => api.GET("/playbooks", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  const [selected, setSelected] = useState<Selection>({ kind: "none" });
  const [running, setRunning] = useState(false);
  const items = query.data?.items ?? [];
  // Nothing chosen yet: show the first playbook rather than an empty half page.
  const open = selected.kind === "open" ? items.find((p) => String(p.id) === selected.id) : selected.kind === "none" ? items[0] : undefined;
  const showcase = query.data?.data_source === "showcase";
  return (
    <SoarShell unavailable={unavailable}
      toolbar={<ActionButton label="New playbook" permissions={["playbooks:write"]} unavailable={unavailable} testId="new-playbook"
        onRun={() => setSelected({ kind: "new" })} />}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Playbooks unavailable"
        queueText="Playbooks are stored in the database; automatic runs wait until it is reachable."
        empty={items.length === 0 && selected.kind !== "new"} emptyText="No playbooks configured">
        <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
          <table className="table self-start" data-testid="playbooks-table">
            <thead><tr><th>Name</th><th>Min severity</th><th>Steps</th><th>Enabled</th><th>Approval</th><th>Version</th></tr></thead>
            <tbody>
              {items.map((p) => (
                <tr key={String(p.id)} data-testid="playbook-row" aria-selected={open?.id === p.id}
                  className="cursor-pointer hover:bg-slate-900 aria-selected:bg-slate-800/60"
                  onClick={() => { setSelected({ kind: "open", id: String(p.id) }); setRunning(false); }}>
                  <td><button className="text-left text-sky-300 hover:text-sky-200">{p.name}</button>
                    <p className="line-clamp-2 text-xs text-slate-400" title={p.description}>{p.description}</p></td>
                  <td><SeverityBadge severity={p.severity_filter} /></td>
                  <td>{((p.definition.steps as unknown[] | undefined) ?? []).length}</td>
                  <td>{p.enabled ? "yes" : <Chip>disabled</Chip>}</td>
                  <td>{p.requires_approval ? "whole playbook" : "per step"}</td>
                  <td>v{p.version}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {selected.kind === "new" && (
            <div className="card"><h2 className="mb-2 font-medium">New playbook</h2>
              <PlaybookEditor playbook={null} onSaved={(p) => setSelected({ kind: "open", id: String(p.id) })} /></div>
          )}
          {open && (
            <div className="card" data-testid="playbook-detail">
              <div className="mb-2 flex items-center gap-2">
                <h2 className="font-medium">{open.name}</h2>
                {(open.mitre_techniques ?? []).map((t) => <Chip key={t}>{t}</Chip>)}
                {!showcase && <div className="ml-auto"><ActionButton label="Run…" permissions={["playbooks:execute"]} testId="run-playbook-open"
                  onRun={() => setRunning(true)} onPreview={() => setRunning(true)} /></div>}
              </div>
              {running && <RunPlaybook playbook={open} onClose={() => setRunning(false)} />}
              <PlaybookEditor key={`${open.id}-${open.version}`} playbook={open} onSaved={() => undefined} />
            </div>
          )}
        </div>
      </DataRegion>
    </SoarShell>
  );
}
