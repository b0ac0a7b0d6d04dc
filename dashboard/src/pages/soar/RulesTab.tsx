/** Automation rules (spec §15.5): conditions, action, priority, firing history; enable/disable. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import type { AutomationRule } from "../../api/types";
import { ActionButton, DataRegion, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, formatTime } from "../../components/ui";
import { SoarShell } from "./SoarShell";

function Toggle({ rule }: { rule: AutomationRule }) {
  const client = useQueryClient();
  const toast = useToast();
  const patch = useMutation({
    mutationFn: () => api.PATCH("/automation-rules/{automation_rule_id}", { params: { path: { automation_rule_id: rule.id } }, body: { enabled: !rule.enabled } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["automation-rules"] }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  return <ActionButton label={rule.enabled ? "Disable" : "Enable"} permissions={["playbooks:write"]} busy={patch.isPending} onRun={() => patch.mutate()} />;
}

export function RulesTab() {
  const query = useQuery({ queryKey: ["automation-rules", "list"], queryFn: () => api.GET("/automation-rules", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <SoarShell unavailable={unavailable}>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Automation rules unavailable"
        queueText="Rules are stored in the database; new alerts are not matched against them until it is reachable."
        empty={items.length === 0} emptyText="No automation rules">
        <table className="table" data-testid="rules-table">
          <thead><tr><th>Priority</th><th>Name</th><th>Conditions</th><th>Action</th><th>Enabled</th><th>Fired</th><th /></tr></thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-testid="automation-rule-row">
                <td>{r.priority}</td>
                <td>{r.name}<p className="text-xs text-slate-400">{r.description}</p></td>
                <td className="space-x-1">{Object.entries(r.conditions).map(([k, v]) => <Chip key={k}>{k}: {JSON.stringify(v)}</Chip>)}</td>
                <td>{r.action}</td>
                <td>{r.enabled ? "yes" : "no"}</td>
                <td>{r.fire_count}× · {formatTime(r.last_fired_at)}</td>
                <td><Toggle rule={r} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </DataRegion>
    </SoarShell>
  );
}
