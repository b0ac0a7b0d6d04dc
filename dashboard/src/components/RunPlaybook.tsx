/** Run a playbook against a case/alert: preview its effects first, then execute (playbooks:execute). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, previewQuery } from "../api/client";
import type { Execution, Playbook, Preview } from "../api/types";
import { useRuntime } from "../app/session";
import { ExecutionSteps, SimulatedLabel } from "./ExecutionSteps";
import { ActionButton } from "./Runtime";
import { useToast } from "./Toasts";
import { Chip, Field } from "./ui";

interface Props {
  /** Fixed playbook (SOAR page); otherwise the operator picks one. */
  playbook?: Playbook;
  caseId?: string;
  alerts?: Array<{ id: string; title: string }>;
  onClose: () => void;
}

interface Effect {
  step: string;
  action: string;
  would?: string;
  simulated?: boolean;
  requires_approval?: boolean;
  risk_level?: string;
  condition?: string | null;
}

const INVALIDATE = [["cases"], ["executions"], ["approvals"], ["playbooks"]];

function EffectsTable({ preview }: { preview: Preview }) {
  const effects = (preview.effects ?? []) as unknown as Effect[];
  return (
    <table className="table mt-3" data-testid="playbook-preview">
      <caption className="mb-1 text-left text-sm text-slate-300">Preview ({preview.mode}) — nothing was run</caption>
      <thead><tr><th>Step</th><th>Action</th><th>Would</th><th>Risk</th><th>Approval</th><th /></tr></thead>
      <tbody>
        {effects.map((e) => (
          <tr key={e.step} data-testid="preview-step">
            <td>{e.step}</td><td><Chip>{e.action}</Chip></td><td>{e.would ?? "—"}</td><td>{e.risk_level ?? "—"}</td>
            <td>{e.requires_approval ? "required" : "—"}</td><td>{e.simulated && <SimulatedLabel />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RunPlaybook({ playbook, caseId, alerts = [], onClose }: Props) {
  const client = useQueryClient();
  const toast = useToast();
  const mode = useRuntime();
  const list = useQuery({
    queryKey: ["playbooks", "list", "all"],
    queryFn: () => api.GET("/playbooks", { params: { query: { limit: 200 } } }),
    enabled: !playbook,
  });
  const [chosen, setChosen] = useState("");
  const [alertId, setAlertId] = useState(alerts[0]?.id ?? "");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [result, setResult] = useState<Execution | null>(null);
  const target = playbook ?? list.data?.items.find((p) => String(p.id) === chosen);
  const run = useMutation({
    mutationFn: (asPreview: boolean) =>
      api.POST("/playbooks/{playbook_id}/execute", {
        params: { path: { playbook_id: String(target?.id) }, query: previewQuery(asPreview) },
        body: { case_id: caseId || null, alert_id: alertId || null },
      }),
    onSuccess: (answer) => {
      // Executions carry a `preview` flag too: a Preview answer is the one naming the mode.
      if ("mode" in answer) return setPreview(answer);
      setPreview(null);
      setResult(answer);
      toast(`Playbook ${answer.playbook_name}: ${answer.status}`, "info");
      INVALIDATE.forEach((queryKey) => void client.invalidateQueries({ queryKey }));
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <div className="card mb-4" data-testid="run-playbook" aria-label="Run playbook">
      <div className="flex flex-wrap items-end gap-3">
        {playbook ? <p className="text-sm">Run <strong>{playbook.name}</strong></p> : (
          <Field label="Playbook">
            <select className="input w-64" data-testid="playbook-select" value={chosen} onChange={(e) => { setChosen(e.target.value); setPreview(null); }}>
              <option value="">{list.isPending ? "Loading…" : "Choose a playbook…"}</option>
              {list.data?.items.map((p) => <option key={String(p.id)} value={String(p.id)}>{p.name}{p.enabled ? "" : " (disabled)"}</option>)}
            </select>
          </Field>
        )}
        {alerts.length > 0 && (
          <Field label="Alert context">
            <select className="input w-72" value={alertId} onChange={(e) => setAlertId(e.target.value)}>
              <option value="">None (case only)</option>
              {alerts.map((a) => <option key={a.id} value={a.id}>{a.title}</option>)}
            </select>
          </Field>
        )}
        {mode.is_mutations_allowed && (
          <button className="btn" data-testid="playbook-preview-button" disabled={!target || run.isPending} onClick={() => run.mutate(true)}>Preview</button>
        )}
        <ActionButton label="Execute" variant="primary" permissions={["playbooks:execute"]} testId="playbook-execute"
          disabled={!target} busy={run.isPending} onRun={() => run.mutate(false)} onPreview={() => run.mutate(true)} />
        <button className="btn ml-auto" onClick={onClose}>Close</button>
      </div>
      {preview && <EffectsTable preview={preview} />}
      {result && (
        <div className="mt-3" data-testid="execution-result">
          <p className="mb-2 text-sm">Execution <strong>{result.status}</strong></p>
          <ExecutionSteps execution={result} />
        </div>
      )}
    </div>
  );
}
