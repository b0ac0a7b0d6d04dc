/** A playbook's YAML: view, validate (never stores) and, with playbooks:write, save as a new version. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, yamlBody } from "../../api/client";
import type { Playbook, ValidationResult } from "../../api/types";
import { useRuntime, useSession } from "../../app/session";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";

export const NEW_PLAYBOOK = `name: my-playbook
description: What triggers it and what it does
severity_filter: high
enabled: false
requires_approval: false
steps:
  - name: notify_soc
    action: notify
    action_class: write_internal
    parameters:
      channel: soc
      message: "Alert {{ .alert.title }}"
    timeout: 30
`;

interface Props {
  playbook: Playbook | null;
  onSaved: (saved: Playbook) => void;
}

function ValidationPanel({ result }: { result: ValidationResult }) {
  if (result.valid) {
    return <p data-testid="validation-result" data-valid="true" className="mt-2 text-sm text-emerald-300">Valid: {result.name}, {result.steps} step(s)</p>;
  }
  return (
    <ul data-testid="validation-result" data-valid="false" className="mt-2 space-y-1 text-sm text-rose-300">
      {result.errors?.map((e, i) => <li key={i}><code>{e.field}</code>{e.line ? ` (line ${e.line})` : ""}: {e.message}</li>)}
    </ul>
  );
}

export function PlaybookEditor({ playbook, onSaved }: Props) {
  const client = useQueryClient();
  const toast = useToast();
  const { can } = useSession();
  const mode = useRuntime();
  const original = playbook ? (playbook.source_yaml ?? JSON.stringify(playbook.definition, null, 2)) : NEW_PLAYBOOK;
  const [text, setText] = useState(original);
  const [result, setResult] = useState<ValidationResult | null>(null);
  const editable = can("playbooks:write") && mode.is_mutations_allowed;
  const validate = useMutation({
    mutationFn: () => api.POST("/playbooks/validate", { body: text, ...yamlBody }),
    onSuccess: setResult,
    onError: (e) => toast((e as Error).message, "error"),
  });
  const save = useMutation({
    mutationFn: () => playbook
      ? api.PUT("/playbooks/{playbook_id}", { params: { path: { playbook_id: playbook.id } }, body: text, ...yamlBody })
      : api.POST("/playbooks", { body: text, ...yamlBody }),
    onSuccess: (saved) => {
      toast(`Saved ${saved.name} (version ${saved.version})`, "success");
      void client.invalidateQueries({ queryKey: ["playbooks"] });
      onSaved(saved);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <div data-testid="playbook-editor">
      <textarea className="input h-80 w-full font-mono text-xs leading-5" spellCheck={false} data-testid="playbook-yaml"
        aria-label="Playbook YAML" value={text} readOnly={!editable} onChange={(e) => { setText(e.target.value); setResult(null); }} />
      <div className="mt-2 flex gap-2">
        {can("playbooks:write") && (
          <button className="btn" data-testid="validate-playbook" disabled={validate.isPending} onClick={() => validate.mutate()}>Validate</button>
        )}
        <ActionButton label={playbook ? "Save new version" : "Create playbook"} permissions={["playbooks:write"]} testId="save-playbook"
          busy={save.isPending} disabled={text === original && !!playbook} onRun={() => save.mutate()} />
      </div>
      {result && <ValidationPanel result={result} />}
    </div>
  );
}
