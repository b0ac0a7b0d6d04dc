/** "Suppress similar" on an alert: a rule exception from the alert's rule, event values and host (tuning). */
import { useMutation } from "@tanstack/react-query";
import { api } from "../../api/client";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";

export function SuppressSimilarButton({ alertId, ruleUid, unavailable }: { alertId: string; ruleUid: unknown; unavailable: boolean }) {
  const toast = useToast();
  const suppress = useMutation({
    mutationFn: (reason: string) => api.POST("/detections/exceptions/from-alert/{alert_id}", { params: { path: { alert_id: alertId } }, body: { reason } }),
    onSuccess: (e) => toast(`Exception created: ${Object.keys(e.conditions).join(", ") || "host"}${e.host ? ` on ${e.host}` : ""}`, "success"),
    onError: (e) => toast((e as Error).message, "error"),
  });
  if (typeof ruleUid !== "string" || !ruleUid) return null;
  const run = () => {
    const reason = window.prompt("Why are alerts like this one expected? (kept with the exception)");
    if (reason) suppress.mutate(reason);
  };
  return <ActionButton label="Suppress similar" permissions={["detections:write"]} unavailable={unavailable} busy={suppress.isPending} onRun={run} testId="suppress-similar" />;
}
