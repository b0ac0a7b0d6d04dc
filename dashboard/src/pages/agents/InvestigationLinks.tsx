/** The investigations of an alert or a case (newest 20, from its detail read), and "Investigate". */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../../api/client";
import type { Investigation } from "../../api/types";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { formatTime } from "../../components/ui";
import { StatusPill, percent, verdictOf } from "./shared";

export function InvestigationLinks({ items, empty }: { items: Investigation[]; empty: string }) {
  if (items.length === 0) return <p className="text-sm text-slate-400" data-testid="no-investigations">{empty}</p>;
  return (
    <ul className="space-y-2 text-sm" data-testid="investigation-links">
      {items.map((inv) => (
        <li key={inv.id} className="flex flex-wrap items-center gap-2" data-testid="investigation-link">
          <StatusPill status={inv.status} />
          <Link to={`/investigations/${inv.id}`}>{inv.agent.replace(/_/g, " ")}</Link>
          {verdictOf(inv) && <span>verdict <strong>{verdictOf(inv)}</strong></span>}
          <span className="text-slate-400">confidence {percent(inv.confidence)}</span>
          <span className="text-slate-500">{formatTime(inv.created_at)}</span>
        </li>
      ))}
    </ul>
  );
}

/** POST /alerts/{id}/investigate (alerts:investigate), then open the investigation. */
export function InvestigateButton({ alertId, unavailable }: { alertId: string; unavailable: boolean }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const toast = useToast();
  const run = useMutation({
    mutationFn: () => api.POST("/alerts/{alert_id}/investigate", { params: { path: { alert_id: alertId } }, body: {} }),
    onSuccess: (inv) => {
      void client.invalidateQueries({ queryKey: ["alerts", "detail", alertId] });
      navigate(`/investigations/${inv.id}`);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return <ActionButton label="Investigate" permissions={["alerts:investigate"]} unavailable={unavailable}
    busy={run.isPending} onRun={() => run.mutate()} testId="investigate" />;
}
