/** Firmware (/firmware): signed bundle registry, upload, and staged rollouts 5 → 25 → 50 → 100 % (spec §18). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, formData } from "../api/client";
import type { components } from "../api/schema";
import { useSession } from "../app/session";
import { SimulatedLabel } from "../components/ExecutionSteps";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Chip, Field, formatTime } from "../components/ui";

type Bundle = components["schemas"]["BundleOut"];
type Rollout = components["schemas"]["RolloutOut"];
type RolloutAction = NonNullable<Rollout["allowed_actions"]>[number];

const KEY = ["firmware"];
const ACTIONS: Record<RolloutAction, string> = { start: "Start", advance: "Advance", pause: "Pause", rollback: "Roll back" };
const STATUS_TONE: Record<string, string> = {
  draft: "bg-slate-700 text-slate-200",
  running: "bg-sky-900 text-sky-100",
  paused: "bg-amber-900 text-amber-100",
  completed: "bg-emerald-900 text-emerald-100",
  rolled_back: "bg-rose-900 text-rose-100",
};

function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** A firmware write; every success refreshes both tables. */
function useFirmwarePost<T>(onDone: (result: T) => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (request: () => Promise<T>) => request(),
    onSuccess: (result) => { onDone(result); void client.invalidateQueries({ queryKey: KEY }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function UploadForm({ onClose }: { onClose: () => void }) {
  const toast = useToast();
  const [form, setForm] = useState({ version: "", target_device_type: "", signature: "" });
  const [file, setFile] = useState<File | null>(null);
  const upload = useFirmwarePost<Bundle>((b) => { toast(`Registered ${b.target_device_type} ${b.version}`, "success"); onClose(); });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const fields = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()])) as typeof form;
    // The schema types the binary `file` field as a string; formData() appends the File itself.
    const body = { ...fields, file: file as Blob as unknown as string };
    upload.mutate(() => api.POST("/firmware/bundles", { body, bodySerializer: formData }));
  };
  const text = (key: keyof typeof form, label: string, cls: string, pattern?: string) => (
    <Field label={label}>
      <input className={`input ${cls}`} value={form[key]} required pattern={pattern} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
    </Field>
  );
  return (
    <form className="card mb-4 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="Upload firmware bundle" data-testid="upload-form">
      {text("version", "Version", "w-28")}
      {text("target_device_type", "Device type", "w-40")}
      {text("signature", "Ed25519 signature (hex)", "w-96 font-mono text-xs", "\\s*[0-9a-fA-F]{128}\\s*")}
      <Field label="Image (max 64 MiB)">
        <input className="input w-64" type="file" required data-testid="upload-file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </Field>
      <button className="btn-primary" disabled={upload.isPending} data-testid="upload-submit">Upload</button>
      <button className="btn" type="button" onClick={onClose}>Cancel</button>
    </form>
  );
}

function BundleRow({ b, unavailable }: { b: Bundle; unavailable: boolean }) {
  const toast = useToast();
  const create = useFirmwarePost<Rollout>((r) => toast(`Draft rollout to ${r.target_devices.length} device(s) created`, "success"));
  return (
    <tr data-testid="bundle-row">
      <td className="font-mono text-xs">{b.version}</td>
      <td><Chip>{b.target_device_type}</Chip></td>
      <td className="font-mono text-xs" title={b.sha256}>{b.sha256.slice(0, 16)}…</td>
      <td data-testid="bundle-signature">{b.signature_valid ? <span className="text-emerald-300">✓ valid</span> : <span className="text-rose-300">invalid</span>}</td>
      <td className="tabular-nums">{formatBytes(b.size)}</td>
      <td>{b.uploaded_by ?? "—"}</td>
      <td className="whitespace-nowrap text-xs">{formatTime(b.created_at)}</td>
      <td>
        <ActionButton label="New rollout" permissions={["firmware:update"]} unavailable={unavailable} busy={create.isPending}
          testId="new-rollout" onRun={() => create.mutate(() => api.POST("/firmware/rollouts", { body: { bundle_id: b.id } }))} />
      </td>
    </tr>
  );
}

function StageBar({ stage }: { stage: number }) {
  return (
    <div className="flex items-center gap-2" data-testid="rollout-stage" data-stage={stage} title={`${stage} % of targets reached`}>
      <div className="flex h-2 w-32 gap-0.5">
        {[5, 25, 50, 100].map((s) => <div key={s} className={`h-full flex-1 rounded-sm ${stage >= s ? "bg-sky-500" : "bg-slate-800"}`} />)}
      </div>
      <span className="whitespace-nowrap text-xs tabular-nums text-slate-300">{stage} %</span>
    </div>
  );
}

function RolloutRow({ r, unavailable }: { r: Rollout; unavailable: boolean }) {
  const { me } = useSession();
  const act = useFirmwarePost<Rollout>(() => undefined);
  const path = { rollout_id: r.id };
  const run = (action: RolloutAction) => act.mutate(() => action === "pause"
    ? api.POST("/firmware/rollouts/{rollout_id}/pause", { params: { path }, body: { reason: `Paused from the console by ${me.username}` } })
    : api.POST(`/firmware/rollouts/{rollout_id}/${action}`, { params: { path } }));
  return (
    <tr data-testid="rollout-row">
      <td><span className="font-mono text-xs">{r.bundle_version ?? r.bundle_id.slice(0, 8)}</span> <Chip>{r.target_device_type ?? "?"}</Chip></td>
      <td><StageBar stage={r.stage} /></td>
      <td className="tabular-nums">{r.updated_devices?.length ?? 0} / {r.target_devices.length}</td>
      <td>
        <span data-testid="rollout-status" className={`rounded px-1.5 py-0.5 text-xs ${STATUS_TONE[r.status] ?? ""}`}>{r.status}</span>
        {r.pause_reason && <div className="mt-1 text-xs text-amber-200" data-testid="pause-reason">{r.pause_reason}</div>}
      </td>
      <td className="whitespace-nowrap text-xs">{formatTime(r.stage_started_at)}</td>
      <td>{r.delivery_simulated ? <SimulatedLabel /> : <span className="text-xs text-slate-300">connector</span>}</td>
      <td>
        <div className="flex flex-wrap gap-1">
          {(r.allowed_actions ?? []).map((a) => (
            <ActionButton key={a} label={ACTIONS[a]} permissions={["firmware:update"]} unavailable={unavailable} busy={act.isPending}
              testId={`rollout-${a}`} onRun={() => run(a)} />
          ))}
        </div>
      </td>
    </tr>
  );
}

export function FirmwarePage() {
  const [uploading, setUploading] = useState(false);
  const bundles = useQuery({ queryKey: [...KEY, "bundles"], queryFn: () => api.GET("/firmware/bundles", { params: { query: { limit: 200 } } }) });
  const rollouts = useQuery({ queryKey: [...KEY, "rollouts"], queryFn: () => api.GET("/firmware/rollouts", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(bundles, rollouts);
  const bundleItems = bundles.data?.items ?? [];
  const rolloutItems = rollouts.data?.items ?? [];
  return (
    <Page title="Firmware" unavailable={unavailable}
      toolbar={<ActionButton label="Upload bundle" variant="primary" permissions={["firmware:update"]} unavailable={unavailable}
        onRun={() => setUploading(true)} testId="upload-bundle" />}>
      {uploading && <UploadForm onClose={() => setUploading(false)} />}
      <h2 className="mb-2 text-sm font-semibold uppercase text-slate-400">Bundles</h2>
      <DataRegion query={bundles} unavailable={unavailable} unavailableTitle="Firmware registry unavailable"
        queueText="Bundles and rollouts are stored in the database; nothing is delivered while it is unreachable."
        empty={bundleItems.length === 0} emptyText="No firmware bundles">
        <table className="table" data-testid="bundles-table">
          <thead><tr><th>Version</th><th>Device type</th><th>SHA-256</th><th>Signature</th><th>Size</th><th>Uploaded by</th><th>Uploaded</th><th /></tr></thead>
          <tbody>{bundleItems.map((b) => <BundleRow key={b.id} b={b} unavailable={unavailable} />)}</tbody>
        </table>
      </DataRegion>
      {!unavailable && (
        <>
          <h2 className="mb-2 mt-6 text-sm font-semibold uppercase text-slate-400">Rollouts</h2>
          <DataRegion query={rollouts} unavailable={false} unavailableTitle="" queueText=""
            empty={rolloutItems.length === 0} emptyText="No rollouts yet">
            <table className="table" data-testid="rollouts-table">
              <thead><tr><th>Bundle</th><th>Stage</th><th>Updated</th><th>Status</th><th>Stage started</th><th>Delivery</th><th>Actions</th></tr></thead>
              <tbody>{rolloutItems.map((r) => <RolloutRow key={r.id} r={r} unavailable={unavailable} />)}</tbody>
            </table>
          </DataRegion>
        </>
      )}
    </Page>
  );
}
