/** Pieces every CPS view shares: status chips, the risk bar, mode-gated buttons and the /ws/cps feed. */
import type { ReactNode } from "react";
import type { SystemMode } from "../../api/types";
import { POLL_MS, useSession } from "../../app/session";
import { readonlyReason } from "../../components/Runtime";
import { useFeedOpen, useLiveFeed } from "../../hooks/useLiveFeed";

/**
 * Every CPS query key starts with "cps": /ws/cps messages refresh them all, coalesced to one
 * refresh per 3 s however many devices report (a busy fleet sends several messages a second).
 */
const CPS_FEED = { path: "/ws/cps", keys: ["cps"], coalesceMs: 3_000 };

export function useCpsFeed(): void {
  const { can } = useSession();
  useLiveFeed(CPS_FEED, can("cps:read"));
}

/** CPS reads poll only while /ws/cps is down; when it is open the feed brings the changes. */
export function useCpsPolling(): number | false {
  return useFeedOpen(CPS_FEED.path) ? false : POLL_MS;
}

const HEALTH_TONE: Record<string, string> = {
  online: "bg-emerald-900 text-emerald-100",
  stale: "bg-amber-900 text-amber-100",
  offline: "bg-rose-900 text-rose-100",
};

const ATTESTATION_TONE: Record<string, string> = {
  verified: "bg-emerald-900 text-emerald-100",
  pending: "bg-sky-900 text-sky-100",
  unknown: "bg-slate-700 text-slate-200",
  failed: "bg-rose-900 text-rose-100",
  revoked: "bg-fuchsia-900 text-fuchsia-100",
};

function Pill({ tone, testId, children }: { tone?: string; testId: string; children: ReactNode }) {
  return <span data-testid={testId} className={`rounded px-1.5 py-0.5 text-xs ${tone ?? "bg-slate-800 text-slate-300"}`}>{children}</span>;
}

export function HealthPill({ health }: { health?: string | null }) {
  return <Pill testId="device-health" tone={HEALTH_TONE[health ?? ""]}>{health ?? "never seen"}</Pill>;
}

export function AttestationPill({ status }: { status: string }) {
  return <Pill testId="device-attestation" tone={ATTESTATION_TONE[status]}>{status}</Pill>;
}

/** Spec §18: red above 70, yellow above 30. */
export function riskColour(risk: number): string {
  if (risk > 70) return "#f43f5e";
  if (risk > 30) return "#eab308";
  return "#22c55e";
}

export function RiskBar({ risk }: { risk: number }) {
  const value = Math.max(0, Math.min(100, Math.round(risk)));
  return (
    <div className="flex items-center gap-2" data-testid="risk-bar" data-risk={value} title={`Risk ${value}/100`}>
      <div className="h-2 w-20 overflow-hidden rounded bg-slate-800">
        <div className="h-full" style={{ width: `${value}%`, background: riskColour(value) }} />
      </div>
      <span className="text-xs tabular-nums text-slate-300">{value}</span>
    </div>
  );
}

type Mode = Pick<SystemMode, "mode" | "is_mutations_allowed" | "is_external_actions_allowed">;

/** Attestation challenges are pipeline writes (spec §6): allowed in dry_run and real, blocked in dummy. */
export function pipelineReason(mode: Mode): string | null {
  return mode.mode === "dummy" ? "Dummy mode — changes are blocked" : null;
}

/** Device commands and conduit isolation reach the field: real mode only, with no preview. */
export function realOnlyReason(mode: Mode, what: string): string | null {
  if (mode.is_external_actions_allowed) return null;
  return `${readonlyReason(mode) ?? "Blocked by the current mode"} — ${what} runs only in real mode`;
}

interface GatedProps {
  label: string;
  permission: string;
  /** Why the action cannot run now (mode or device state); null when it can. */
  reason: string | null;
  unavailable?: boolean;
  onRun: () => void;
  busy?: boolean;
  testId?: string;
  variant?: "primary" | "default";
}

/** Like `ActionButton`, for actions whose gate is not the operator write class. */
export function GatedButton(props: GatedProps) {
  const { can } = useSession();
  if (!can(props.permission)) return null;
  const cls = props.variant === "primary" ? "btn-primary" : "btn";
  if (props.unavailable) {
    return <button className={cls} disabled title="Live data unavailable" data-testid={props.testId}>{props.label}</button>;
  }
  if (props.reason) {
    return (
      <span data-testid="readonly-reason" title={props.reason} className="inline-flex">
        <button className={cls} disabled data-testid={props.testId} aria-label={`${props.label} (${props.reason})`}>{props.label}</button>
      </span>
    );
  }
  return <button className={cls} onClick={props.onRun} disabled={props.busy} data-testid={props.testId}>{props.label}</button>;
}
