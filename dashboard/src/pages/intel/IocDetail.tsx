/** One IOC: linked alerts, edit (status, confidence, TLP, tags, description) and federated sharing. */
import { IOC_STATUSES, TLPS, oneOf } from "../../api/enums";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import type { IocDetail } from "../../api/types";
import { useRuntime, useSession } from "../../app/session";
import { ActionButton, ErrorPanel, SkeletonRows, readonlyReason } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, Field, SeverityBadge, formatTime } from "../../components/ui";


function EditForm({ ioc }: { ioc: IocDetail }) {
  const client = useQueryClient();
  const toast = useToast();
  const mode = useRuntime();
  const [form, setForm] = useState({
    status: ioc.status, confidence: String(ioc.confidence), tlp: ioc.tlp, tags: ioc.tags?.join(", ") ?? "", description: ioc.description ?? "",
  });
  const save = useMutation({
    mutationFn: () => api.PATCH("/iocs/{ioc_id}", { params: { path: { ioc_id: ioc.id } }, body: {
      status: oneOf(IOC_STATUSES, form.status), confidence: Number(form.confidence), tlp: oneOf(TLPS, form.tlp), description: form.description || null,
      tags: form.tags.split(",").map((t) => t.trim()).filter(Boolean),
    } }),
    onSuccess: () => { toast("IOC updated", "success"); void client.invalidateQueries({ queryKey: ["iocs"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const locked = !!readonlyReason(mode);
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <form className="mt-3 grid grid-cols-2 gap-2" onSubmit={submit} aria-label="Edit IOC">
      <Field label="Status">
        <select className="input" value={form.status} disabled={locked} onChange={(e) => setForm({ ...form, status: e.target.value })}>
          {IOC_STATUSES.map((s) => <option key={s}>{s}</option>)}
        </select>
      </Field>
      <Field label="TLP">
        <select className="input" data-testid="ioc-tlp" value={form.tlp} disabled={locked} onChange={(e) => setForm({ ...form, tlp: e.target.value })}>
          {TLPS.map((t) => <option key={t}>{t}</option>)}
        </select>
      </Field>
      <Field label="Confidence (0–1)">
        <input className="input" type="number" min={0} max={1} step={0.05} value={form.confidence} disabled={locked}
          onChange={(e) => setForm({ ...form, confidence: e.target.value })} />
      </Field>
      <Field label="Tags (comma separated)">
        <input className="input" value={form.tags} disabled={locked} onChange={(e) => setForm({ ...form, tags: e.target.value })} />
      </Field>
      <div className="col-span-2">
        <Field label="Description">
          <input className="input w-full" value={form.description} disabled={locked} onChange={(e) => setForm({ ...form, description: e.target.value })} />
        </Field>
      </div>
      <div className="col-span-2">
        <ActionButton label="Save" permissions={["iocs:write"]} busy={save.isPending} onRun={() => undefined} testId="save-ioc" />
      </div>
    </form>
  );
}

function ShareButton({ ioc }: { ioc: IocDetail }) {
  const toast = useToast();
  const mode = useRuntime();
  const share = useMutation({
    mutationFn: () => api.POST("/iocs/{ioc_id}/share", { params: { path: { ioc_id: ioc.id } } }),
    onSuccess: (r) => toast(`Shared on ${r.subject} (${r.delivery})`, "success"),
    onError: (e) => toast((e as Error).message, "error"),
  });
  const { can } = useSession();
  if (!can("iocs:write")) return null;
  const reason = ioc.tlp === "red" ? "TLP:RED never leaves this site"
    : !mode.is_external_actions_allowed ? "Sharing is an external action: real mode only" : null;
  return (
    <span title={reason ?? "Publish to federated sites"} data-testid={reason ? "readonly-reason" : undefined}>
      <button className="btn" data-testid="share-ioc" disabled={!!reason || share.isPending} onClick={() => share.mutate()}>Share</button>
    </span>
  );
}

export function IocDetailPanel({ id, onClose }: { id: string; onClose: () => void }) {
  const query = useQuery({ queryKey: ["iocs", "detail", id], queryFn: () => api.GET("/iocs/{ioc_id}", { params: { path: { ioc_id: id } } }) });
  const ioc = query.data;
  return (
    <aside className="card" data-testid="ioc-detail" aria-label="IOC detail">
      <div className="mb-2 flex items-center gap-2">
        <h2 className="font-medium">IOC</h2>
        {ioc && <ShareButton ioc={ioc} />}
        <button className="btn ml-auto" onClick={onClose}>Close</button>
      </div>
      {query.isPending && <SkeletonRows rows={3} />}
      {query.error && <ErrorPanel error={query.error} onRetry={() => void query.refetch()} />}
      {ioc && (
        <>
          <p className="break-all font-mono text-sm text-slate-100">{ioc.value}</p>
          <p className="mt-1 space-x-1 text-xs"><Chip>{ioc.type}</Chip><Chip>TLP:{ioc.tlp.toUpperCase()}</Chip><Chip>{ioc.status}</Chip>
            {ioc.tags?.map((t) => <Chip key={t}>#{t}</Chip>)}</p>
          <p className="mt-1 text-xs text-slate-400">First seen {formatTime(ioc.first_seen)} · last seen {formatTime(ioc.last_seen)} · {ioc.sightings} sighting(s)</p>
          <h3 className="mt-3 text-sm font-medium">Linked alerts ({ioc.linked_alert_count})</h3>
          <ul className="mt-1 space-y-1 text-sm" data-testid="ioc-linked-alerts">
            {ioc.linked_alerts.map((a) => <li key={a.id}><SeverityBadge severity={a.severity} /> <Link to={`/alerts/${a.id}`}>{a.title}</Link> · {a.status}</li>)}
          </ul>
          <EditForm key={ioc.updated_at ?? ioc.id} ioc={ioc} />
        </>
      )}
    </aside>
  );
}
