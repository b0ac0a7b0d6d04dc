/** A rule's Sigma YAML: view, test (siem:read) and, with detections:write, save or create. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import type { RuleDetail, RulesCreated } from "../../api/types";
import { useRuntime, useSession } from "../../app/session";
import { ActionButton, SkeletonRows } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { RuleTestPanel } from "./RuleTestPanel";

export const NEW_RULE = `title: Whoami execution
id: 00000000-0000-4000-8000-000000000001
status: experimental
level: medium
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
tags:
  - attack.discovery
  - attack.t1033
`;

interface Props {
  ruleId: string | null;
  onClose: () => void;
}

function Editor({ rule, onClose }: { rule: RuleDetail | null; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const { can } = useSession();
  const mode = useRuntime();
  const original = rule?.yaml ?? NEW_RULE;
  const [text, setText] = useState(original);
  const editable = can("detections:write") && mode.is_mutations_allowed;
  const save = useMutation({
    mutationFn: (): Promise<RuleDetail | RulesCreated> => rule
      ? api.PATCH("/detections/rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: { yaml: text } })
      : api.POST("/detections/rules", { body: { yaml: text, enabled: true } }),
    onSuccess: () => {
      toast(rule ? `Saved ${rule.title}` : "Rule created", "success");
      void client.invalidateQueries({ queryKey: ["detections"] });
      if (!rule) onClose();
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <div data-testid="rule-editor">
      <div className="mb-2 flex items-center justify-between">
        <h2 className="font-medium">{rule ? rule.title : "New rule"}</h2>
        <button className="btn" onClick={onClose} data-testid="close-rule-editor">Close</button>
      </div>
      {rule && !rule.supported && (
        <p className="mb-2 text-sm text-rose-300" data-testid="rule-compile-error">Does not compile: {rule.unsupported_reason}</p>
      )}
      <textarea className="input h-72 w-full font-mono text-xs leading-5" spellCheck={false} aria-label="Sigma YAML"
        data-testid="rule-yaml" value={text} readOnly={!editable} onChange={(e) => setText(e.target.value)} />
      <div className="mt-2 flex gap-2">
        <ActionButton label={rule ? "Save rule" : "Create rule"} permissions={["detections:write"]} testId="save-rule"
          busy={save.isPending} disabled={text === original && !!rule} onRun={() => save.mutate()} />
      </div>
      <RuleTestPanel yaml={text} />
    </div>
  );
}

export function RuleEditorPanel({ ruleId, onClose }: Props) {
  const detail = useQuery({
    queryKey: ["detections", "rule", ruleId],
    queryFn: () => api.GET("/detections/rules/{rule_id}", { params: { path: { rule_id: ruleId ?? "" } } }),
    enabled: ruleId !== null,
  });
  if (ruleId !== null && !detail.data) {
    return <section className="card" data-testid="rule-editor-loading">{detail.error ? (detail.error as Error).message : <SkeletonRows rows={3} />}</section>;
  }
  return <section className="card"><Editor key={ruleId ?? "new"} rule={detail.data ?? null} onClose={onClose} /></section>;
}
