/** Device actions: attest now (cps:attest), revoke + re-enrolment token (cps:revoke), commands (cps:write, real mode). */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { api } from "../../api/client";
import { useRuntime, useSession } from "../../app/session";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { formatTime } from "../../components/ui";
import { GatedButton, pipelineReason, realOnlyReason } from "./shared";
import { COMMANDS, type Command, type DeviceDetail } from "./types";

/** A POST on a device whose result is shown once; every success refreshes the CPS queries. */
function useDevicePost<A, T>(request: (arg: A) => Promise<T>, onDone: (result: T) => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: request,
    onSuccess: (result) => { onDone(result); void client.invalidateQueries({ queryKey: ["cps"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function Result({ children }: { children: ReactNode }) {
  return <div className="card mb-4 border-sky-800 text-sm" data-testid="action-result">{children}</div>;
}

export function DeviceActions({ device, unavailable }: { device: DeviceDetail; unavailable: boolean }) {
  const mode = useRuntime();
  const { can } = useSession();
  const [result, setResult] = useState<ReactNode>(null);
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [command, setCommand] = useState<Command>(COMMANDS[0]);
  const revoked = device.attestation_status === "revoked";
  const path = { device_id: device.device_id };
  const attest = useDevicePost(() => api.POST("/cps/devices/{device_id}/attest", { params: { path } }), (c) => setResult(
    <>Challenge <code className="text-sky-300">{c.nonce}</code> sent, expires {formatTime(c.expires_at)} —{" "}
      {c.delivered ? "delivered over MQTT" : "not delivered (broker unreachable); the device gets it on its next poll"}.</>,
  ));
  const revoke = useDevicePost(() => api.POST("/cps/devices/{device_id}/revoke", { params: { path } }), () => { setConfirmRevoke(false); setResult("Device revoked: its attestation responses are now ignored."); });
  const token = useDevicePost(() => api.POST("/cps/devices/{device_id}/enrollment-token", { params: { path } }), (t) => setResult(
    <>One-time re-enrolment token (shown once, expires {formatTime(t.expires_at)}): <code data-testid="enrollment-token" className="break-all text-amber-200">{t.token}</code></>,
  ));
  const send = useDevicePost((body: { command: Command }) => api.POST("/cps/devices/{device_id}/command", { params: { path }, body }), (r) => setResult(
    <>Command <strong>{r.command}</strong> {r.delivered ? "published" : "queued but not delivered"} on <code>{r.topic}</code>.</>,
  ));
  const approve = useDevicePost(() => api.POST("/cps/devices/{device_id}/approve", { params: { path } }), () => setResult("Device approved: it can now attest and become trusted."));
  const untrusted = device.trusted ? null : "Commands go only to verified (trusted) devices";
  return (
    <>
      <div className="mb-4 flex flex-wrap items-center gap-2" data-testid="device-actions">
        <GatedButton label="Attest now" permission="cps:attest" unavailable={unavailable} busy={attest.isPending} testId="attest-device"
          reason={revoked ? "Revoked devices cannot attest until re-enrolled" : pipelineReason(mode)} onRun={() => attest.mutate()} />
        {device.quarantined && (
          <ActionButton label="Approve device" permissions={["cps:write"]} unavailable={unavailable} busy={approve.isPending}
            testId="approve-device" onRun={() => approve.mutate()} />
        )}
        {revoked ? (
          <ActionButton label="Re-enrolment token" permissions={["cps:revoke"]} unavailable={unavailable} busy={token.isPending}
            testId="enrollment-token-button" onRun={() => token.mutate()} />
        ) : confirmRevoke ? (
          <span className="flex gap-2">
            <button className="btn-primary bg-rose-700" data-testid="revoke-confirm" disabled={revoke.isPending} onClick={() => revoke.mutate()}>Confirm revoke</button>
            <button className="btn" onClick={() => setConfirmRevoke(false)}>Cancel</button>
          </span>
        ) : (
          <ActionButton label="Revoke" permissions={["cps:revoke"]} unavailable={unavailable} testId="revoke-device" onRun={() => setConfirmRevoke(true)} />
        )}
        {can("cps:write") && <span className="ml-4 flex items-center gap-2">
          <select className="input" aria-label="Command" value={command} disabled={unavailable} onChange={(e) => setCommand(e.target.value as Command)}>
            {COMMANDS.map((c) => <option key={c}>{c}</option>)}
          </select>
          <GatedButton label="Send command" permission="cps:write" unavailable={unavailable} busy={send.isPending} testId="send-command"
            reason={realOnlyReason(mode, "a device command") ?? untrusted} onRun={() => send.mutate({ command })} />
        </span>}
      </div>
      {result && <Result>{result}</Result>}
    </>
  );
}
