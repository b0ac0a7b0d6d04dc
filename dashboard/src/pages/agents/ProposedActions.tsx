/**
 * An investigation's proposed containments. Isolating a host, disabling a user or blocking an IP is
 * never done by the agent: the analyst files it here as a human approval (playbooks:execute), it is
 * decided in the Approvals queue, and only then does the connector run (simulated unless configured).
 */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { proposalRequestActionValues, type components } from "../../api/schema";
import type { Approval } from "../../api/types";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";

/** Proposed actions that can be filed from here (single-target containment tools). */
type Fileable = components["schemas"]["ProposalRequest"]["action"];
const FILEABLE: ReadonlySet<string> = new Set<Fileable>(proposalRequestActionValues);

export type ProposedAction = Record<string, unknown>;

function Proposal({ investigationId, action }: { investigationId: string; action: ProposedAction }) {
  const toast = useToast();
  const [filed, setFiled] = useState<Approval | null>(null);
  const name = String(action.action ?? "");
  const target = typeof action.target === "string" ? action.target : undefined;
  const file = useMutation({
    mutationFn: () => api.POST("/investigations/{investigation_id}/proposals", {
      params: { path: { investigation_id: investigationId } }, body: { action: name as Fileable, target: target ?? "" },
    }),
    onSuccess: (approval) => { setFiled(approval); toast(`Approval requested: ${name} on ${target}`, "success"); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <li data-testid="proposed-action" className="flex flex-wrap items-center gap-2">
      <span>Proposed (needs approval):</span>
      <span className="font-mono">{name}{target ? ` → ${target}` : ""}{typeof action.playbook === "string" ? ` ${action.playbook}` : ""}</span>
      {filed ? (
        <span data-testid="proposal-filed" className="text-xs text-amber-300">
          approval {filed.status} · <Link to="/approvals">decide</Link>
        </span>
      ) : FILEABLE.has(name) && target ? (
        <ActionButton label="Request approval" permissions={["playbooks:execute"]} busy={file.isPending}
          testId="request-approval" onRun={() => file.mutate()} />
      ) : null}
    </li>
  );
}

export function ProposedActions({ investigationId, actions }: { investigationId: string; actions: ProposedAction[] }) {
  return <>{actions.map((a, i) => <Proposal key={i} investigationId={investigationId} action={a} />)}</>;
}
