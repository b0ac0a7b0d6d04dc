/**
 * The focused attack: findings, techniques, alerts and dispatches (GET /network/attacks/{id}),
 * with the two actions and "Open in analyzer". Opening a case is an operator write (real mode
 * only); dispatching `network_security` is a pipeline write, so only dummy mode (or a missing
 * database) blocks it.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { useRuntime, useSession } from "../../app/session";
import { ActionButton, ErrorPanel, SkeletonRows, readonlyReason } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, SeverityBadge, formatTime } from "../../components/ui";
import { StatusPill } from "../agents/shared";
import { type AttackDetail, label, percent } from "./types";

const INVALIDATE = [["network"], ["cases"], ["investigations"]];

function useAttackAction<T>(request: () => Promise<T>, onDone: (result: T) => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: request,
    onSuccess: (result) => {
      INVALIDATE.forEach((queryKey) => void client.invalidateQueries({ queryKey }));
      onDone(result);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function DispatchButton({ attack, unavailable }: { attack: AttackDetail; unavailable: boolean }) {
  const mode = useRuntime();
  const { can } = useSession();
  const toast = useToast();
  const dispatch = useAttackAction(
    () => api.POST("/network/attacks/{attack_id}/dispatch", { params: { path: { attack_id: attack.id } } }),
    (inv) =>
    toast(`network_security dispatched (${inv.status})`, "success"),
  );
  if (!can("agents:dispatch")) return null;
  const reason = unavailable ? "Live data unavailable" : mode.mode === "dummy" ? readonlyReason(mode) : null;
  return (
    <span data-testid={reason ? "readonly-reason" : undefined} title={reason ?? undefined} className="inline-flex">
      <button className="btn" data-testid="dispatch-attack" disabled={Boolean(reason) || dispatch.isPending} onClick={() => dispatch.mutate()}
        aria-label={reason ? `Dispatch network_security (${reason})` : "Dispatch network_security"}>
        Dispatch network_security
      </button>
    </span>
  );
}

function Actions({ attack, unavailable }: { attack: AttackDetail; unavailable: boolean }) {
  const toast = useToast();
  const { can } = useSession();
  const openCase = useAttackAction(
    () => api.POST("/network/attacks/{attack_id}/case", { params: { path: { attack_id: attack.id } } }),
    (created) => toast(`Case opened: ${created.title}`, "success"));
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="attack-actions">
      {attack.case_id ? (
        <Link className="btn" data-testid="attack-case-link" to={`/cases/${attack.case_id}`}>Open case →</Link>
      ) : (
        <ActionButton label="Open case" permissions={["alerts:write", "cases:write"]} unavailable={unavailable}
          onRun={() => openCase.mutate()} busy={openCase.isPending} testId="open-attack-case" variant="primary" />
      )}
      <DispatchButton attack={attack} unavailable={unavailable} />
      {can("agents:read") && <Link className="btn" data-testid="open-in-analyzer" to={`/network/analyzer?attack=${attack.id}`}>Open in analyzer</Link>}
    </div>
  );
}

function Evidence({ attack, unavailable }: { attack: AttackDetail; unavailable: boolean }) {
  return (
    <div className="space-y-3" data-testid="attack-evidence">
      <div className="flex flex-wrap items-center gap-2">
        <SeverityBadge severity={attack.severity} />
        <h2 className="font-medium text-slate-50">{attack.title}</h2>
        <Chip>{label(attack.category)}</Chip>
        <span className="text-sm text-slate-400">confidence <strong data-testid="attack-confidence">{percent(attack.confidence)}</strong></span>
      </div>
      <p className="font-mono text-sm" data-testid="attack-flow">{attack.src_ip ?? "?"} → {attack.dst_ip ?? "?"}</p>
      <Actions attack={attack} unavailable={unavailable} />
      <ul className="list-disc space-y-0.5 pl-5 text-sm text-slate-300" data-testid="attack-findings">
        {attack.findings.map((f) => <li key={f}>{f}</li>)}
      </ul>
      <div className="flex flex-wrap gap-1.5" data-testid="attack-techniques">
        {attack.techniques.map((t) => <Chip key={t.id}>{t.id} {t.name ?? ""} · {t.tactics.join(", ") || "no tactic"}</Chip>)}
      </div>
      <h3 className="text-sm font-medium text-slate-300">Alerts ({attack.alerts.length})</h3>
      <ul className="space-y-1 text-sm" data-testid="attack-alerts">
        {attack.alerts.map((a) => (
          <li key={a.id} className="flex flex-wrap items-center gap-2">
            <SeverityBadge severity={a.severity} /> <Link to={`/alerts/${a.id}`}>{a.title}</Link>
            <Chip>{a.source}</Chip> <span className="text-xs text-slate-500">{formatTime(a.first_seen_at)}</span>
          </li>
        ))}
      </ul>
      <h3 className="text-sm font-medium text-slate-300">Recent dispatches</h3>
      {attack.investigations.length === 0 ? (
        <p className="text-sm text-slate-500">No agent dispatched on this attack yet</p>
      ) : (
        <ul className="space-y-1 text-sm" data-testid="attack-dispatches">
          {attack.investigations.map((inv) => (
            <li key={inv.id} className="flex items-center gap-2">
              <StatusPill status={inv.status} /> <Link to={`/investigations/${inv.id}`}>{inv.agent}</Link>
              <span className="text-xs text-slate-500">{formatTime(inv.created_at)} · {inv.requested_by}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function AttackEvidence({ id, unavailable }: { id: string; unavailable: boolean }) {
  const query = useQuery({ queryKey: ["network", "attack", id], queryFn: () => api.GET("/network/attacks/{attack_id}", { params: { path: { attack_id: id } } }) });
  return (
    <div className="card">
      {query.isPending ? <SkeletonRows rows={4} /> : query.error ? (
        <ErrorPanel error={query.error} onRetry={() => void query.refetch()} />
      ) : <Evidence attack={query.data} unavailable={unavailable} />}
    </div>
  );
}
