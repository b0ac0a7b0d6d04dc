/** Agent fleet and investigation helpers shared by the Agents, Investigations and Overview pages. */
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { Agent, AgentList, Investigation } from "../../api/types";
import type { LiveFeed } from "../../hooks/useLiveFeed";

export const AGENTS_KEY = ["agents", "list"];

/** GET /agents — the fleet; also says whether an LLM is configured. */
export function useAgents(enabled = true) {
  return useQuery({ queryKey: AGENTS_KEY, queryFn: () => api.GET("/agents"), enabled });
}

/**
 * Can take a task now. With no LLM configured an agent is `unconfigured` but still runs on the
 * offline analyst backend, so it counts as ready; `offline` (breaker open) and `disabled` do not.
 */
export function isReady(agent: Agent): boolean {
  return agent.enabled && (agent.status === "online" || agent.status === "degraded" || agent.status === "unconfigured");
}

/** The backend a fleet runs on, as an operator should read it. */
export function backendLabel(list: AgentList): string {
  if (list.llm_configured) return `LLM (${list.items.find((a) => a.name === "orchestrator")?.model ?? "configured model"})`;
  return "offline analyst (no LLM configured)";
}

const TONES: Record<string, string> = {
  online: "bg-emerald-900 text-emerald-100",
  completed: "bg-emerald-900 text-emerald-100",
  closed: "bg-emerald-900 text-emerald-100",
  degraded: "bg-amber-900 text-amber-100",
  review_required: "bg-amber-900 text-amber-100",
  half_open: "bg-amber-900 text-amber-100",
  running: "bg-sky-900 text-sky-100",
  pending: "bg-sky-900 text-sky-100",
  unconfigured: "bg-slate-700 text-slate-100",
  offline: "bg-rose-900 text-rose-100",
  open: "bg-rose-900 text-rose-100",
  failed: "bg-rose-900 text-rose-100",
  dead_lettered: "bg-rose-900 text-rose-100",
};

export function StatusPill({ status, testId }: { status: string; testId?: string }) {
  return (
    <span data-testid={testId} data-status={status} className={`rounded px-1.5 py-0.5 text-xs whitespace-nowrap ${TONES[status] ?? "bg-slate-800 text-slate-300"}`}>
      {status.replace(/_/g, " ")}
    </span>
  );
}

export function percent(confidence?: number | null): string {
  return confidence === null || confidence === undefined ? "—" : `${Math.round(confidence * 100)}%`;
}

/** Wall time of a run: start → completion, or → now while it is still going. */
export function duration(inv: Pick<Investigation, "started_at" | "completed_at">, now = Date.now()): string {
  if (!inv.started_at) return "—";
  const end = inv.completed_at ? new Date(inv.completed_at).getTime() : now;
  const seconds = Math.max(0, (end - new Date(inv.started_at).getTime()) / 1000);
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
}

/** The verdict of a finished run, when its result carries one. */
export function verdictOf(inv: Investigation): string | null {
  const verdict = inv.result?.verdict;
  return typeof verdict === "string" ? verdict : null;
}

/** /ws/agent-thoughts: every agent step refreshes the investigation views. */
export const THOUGHTS_FEED: LiveFeed = { path: "/ws/agent-thoughts", keys: ["investigations"] };
