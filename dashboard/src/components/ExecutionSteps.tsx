/** A playbook execution step by step; connector results that only simulated the call are labelled SIMULATED. */
import { Link } from "react-router-dom";
import type { Execution } from "../api/types";
import { Chip, formatTime } from "./ui";

interface Step {
  name: string;
  action: string;
  status: string;
  output?: unknown;
  error?: string | null;
  approval_id?: string | null;
  finished_at?: string | null;
}

const STATUS_TONE: Record<string, string> = {
  completed: "text-emerald-300",
  failed: "text-rose-300",
  rejected: "text-rose-300",
  rolled_back: "text-amber-300",
  awaiting_approval: "text-amber-300",
  running: "text-sky-300",
};

/** True when any connector result inside the output says `status: "simulated"` (spec §15.6). */
export function isSimulated(output: unknown): boolean {
  if (Array.isArray(output)) return output.some(isSimulated);
  if (output === null || typeof output !== "object") return false;
  const record = output as Record<string, unknown>;
  return record.status === "simulated" || record.simulated === true || Object.values(record).some(isSimulated);
}

export function StatusText({ status }: { status: string }) {
  return <span className={STATUS_TONE[status] ?? "text-slate-300"} data-status={status}>{status}</span>;
}

export function SimulatedLabel() {
  return (
    <span data-testid="simulated-label" title="A simulated connector recorded this call; nothing was changed outside AuroraSOC"
      className="rounded bg-violet-900 px-1.5 py-0.5 text-[10px] font-semibold tracking-wide text-violet-100">
      SIMULATED
    </span>
  );
}

export function ExecutionSteps({ execution }: { execution: Execution }) {
  const steps = execution.steps as unknown as Step[];
  return (
    <ol className="space-y-1.5" data-testid="execution-steps">
      {steps.map((step, index) => (
        <li key={step.name} data-testid="execution-step" className="flex flex-wrap items-center gap-2 text-sm">
          <span className="w-5 text-right text-slate-500">{index + 1}.</span>
          <strong className="text-slate-100">{step.name}</strong>
          <Chip>{step.action}</Chip>
          <StatusText status={step.status} />
          {isSimulated(step.output) && <SimulatedLabel />}
          {step.approval_id && step.status === "awaiting_approval" && <Link to="/approvals">approval pending</Link>}
          {step.error && <span className="text-rose-300">{step.error}</span>}
          {step.finished_at && <span className="text-xs text-slate-500">{formatTime(step.finished_at)}</span>}
        </li>
      ))}
    </ol>
  );
}
