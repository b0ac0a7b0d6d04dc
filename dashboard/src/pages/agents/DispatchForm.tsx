/**
 * Dispatch a task to the orchestrator or one agent (POST /orchestrator/dispatch, `agents:dispatch`).
 *
 * Dispatch is a pipeline write: it runs in `real` and `dry_run` (where acting tools are simulated)
 * and only `dummy` blocks it, so this form gates on that rather than on operator mutations. In
 * `dummy` it offers **Simulate** (`?preview=true`): the receipt of what would be queued.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, applied } from "../../api/client";
import type { Agent, DispatchRequest, Investigation, Preview } from "../../api/types";
import { useRuntime, useSession } from "../../app/session";
import { readonlyReason } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Field } from "../../components/ui";
import { StatusPill, isReady, percent } from "./shared";

const UUID = "\\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\s*";

interface Props {
  agents: Agent[];
  unavailable: boolean;
  /** Preselected agent (an agent card's "Dispatch"). */
  agent?: string;
  onClose?: () => void;
}

function blockReason(props: Props, mode: ReturnType<typeof useRuntime>, target?: Agent): string | null {
  if (props.unavailable) return "Live data unavailable";
  if (mode.mode === "dummy") return readonlyReason(mode);
  if (!props.agents.some(isReady)) return "No agent is online";
  if (target && !isReady(target)) return `${target.display_name} is ${target.status}`;
  return null;
}

function SimulatedReceipt({ preview }: { preview: Preview }) {
  const effect = preview.effects?.[0] ?? {};
  return (
    <p data-testid="dispatch-simulated" className="mt-3 flex flex-wrap items-center gap-2 text-sm">
      <span className="rounded bg-amber-900 px-1.5 text-xs text-amber-100">SIMULATED</span>
      Would dispatch to <strong>{String(effect.agent)}</strong> (priority {String(effect.priority)}, backend {String(effect.backend)});
      nothing was queued ({preview.mode} mode).
    </p>
  );
}

function Receipt({ inv }: { inv: Investigation }) {
  return (
    <p data-testid="dispatch-receipt" className="mt-3 flex flex-wrap items-center gap-2 text-sm">
      Dispatched to <strong>{inv.agent}</strong> <StatusPill status={inv.status} />
      {inv.confidence !== null && <span>confidence {percent(inv.confidence)}</span>}
      <Link to={`/investigations/${inv.id}`}>open investigation</Link>
    </p>
  );
}

export function DispatchForm(props: Props) {
  const mode = useRuntime();
  const { can } = useSession();
  const client = useQueryClient();
  const toast = useToast();
  const enabled = props.agents.filter((a) => a.enabled);
  const [agent, setAgent] = useState(props.agent ?? "orchestrator");
  const [prompt, setPrompt] = useState("");
  const [priority, setPriority] = useState(5);
  const [context, setContext] = useState({ alert_id: "", case_id: "" });
  const dispatch = useMutation({
    mutationFn: (body: DispatchRequest) => applied(api.POST("/orchestrator/dispatch", { body })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["investigations"] });
      void client.invalidateQueries({ queryKey: ["agents"] });
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const simulate = useMutation({
    mutationFn: (body: DispatchRequest) => api.POST("/orchestrator/dispatch", { params: { query: { preview: true } }, body }) as Promise<Preview>,
    onError: (e) => toast((e as Error).message, "error"),
  });
  if (!can("agents:dispatch")) return null;
  const reason = blockReason(props, mode, props.agents.find((a) => a.name === agent));
  const request = (): DispatchRequest => {
    const ids = Object.fromEntries(Object.entries(context).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
    return { agent: agent as DispatchRequest["agent"], prompt: prompt.trim(), priority, ...ids };
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    dispatch.mutate(request());
  };
  const canSimulate = mode.mode === "dummy" && !props.unavailable;
  return (
    <form onSubmit={submit} aria-label="Dispatch a task" data-testid="dispatch-form">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Agent">
          <select className="input" data-testid="dispatch-agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
            {enabled.map((a) => <option key={a.name} value={a.name}>{a.display_name}</option>)}
          </select>
        </Field>
        <Field label="Priority (1–10)">
          <input className="input w-20" type="number" min={1} max={10} value={priority} onChange={(e) => setPriority(Number(e.target.value))} />
        </Field>
        {(["alert_id", "case_id"] as const).map((key) => (
          <Field key={key} label={`${key === "alert_id" ? "Alert" : "Case"} ID (optional)`}>
            <input className="input w-80 font-mono" data-testid={`dispatch-${key}`} value={context[key]} pattern={UUID}
              title="A UUID" onChange={(e) => setContext({ ...context, [key]: e.target.value })} />
          </Field>
        ))}
      </div>
      <Field label="Task">
        <textarea className="input mt-2 h-20 w-full" data-testid="dispatch-prompt" value={prompt} maxLength={8000}
          placeholder="e.g. Hunt for lateral movement from WIN-DC01 in the last 24 hours" onChange={(e) => setPrompt(e.target.value)} />
      </Field>
      <div className="mt-2 flex flex-wrap items-center gap-2">
        <span data-testid={reason ? "readonly-reason" : undefined} title={reason ?? undefined} className="inline-flex">
          <button className="btn-primary" data-testid="dispatch-submit" aria-label={reason ? `Dispatch (${reason})` : "Dispatch"}
            disabled={Boolean(reason) || dispatch.isPending || !prompt.trim()}>
            Dispatch
          </button>
        </span>
        {canSimulate && (
          <button className="btn" type="button" data-testid="dispatch-simulate" disabled={simulate.isPending || !prompt.trim()}
            onClick={() => simulate.mutate(request())}>
            Simulate
          </button>
        )}
        {reason && <span className="text-xs text-slate-400" data-testid="dispatch-blocked">{reason}</span>}
        {!reason && mode.mode === "dry_run" && <span className="text-xs text-slate-400">Dry run: tools that act are simulated.</span>}
        {props.onClose && <button className="btn" type="button" onClick={props.onClose}>Cancel</button>}
      </div>
      {dispatch.data && <Receipt inv={dispatch.data} />}
      {simulate.data && <SimulatedReceipt preview={simulate.data} />}
    </form>
  );
}
