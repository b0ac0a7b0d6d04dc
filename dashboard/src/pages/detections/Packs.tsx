/** Detections → Packs: installed rule packs (version, licence, policy), update from a URL, roll back, and
 * rule activity (noisiest rules per day, rules that never fired). Writes need detections:write. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import type { PackOut, PackReport } from "../../api/types";
import { ActionButton, DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Field, formatTime } from "../../components/ui";

const STATUSES = ["stable", "test", "experimental"];
const LEVELS = ["informational", "low", "medium", "high", "critical"];

function PolicyEditor({ pack }: { pack: PackOut }) {
  const client = useQueryClient();
  const toast = useToast();
  const [statuses, setStatuses] = useState<string[]>(pack.statuses);
  const [minLevel, setMinLevel] = useState(pack.min_level);
  const save = useMutation({
    mutationFn: () => api.PUT("/detections/packs/{name}/policy", { params: { path: { name: pack.name } }, body: { statuses, min_level: minLevel } }),
    onSuccess: () => { toast(`Policy of ${pack.name} saved`, "success"); void client.invalidateQueries({ queryKey: ["detections"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const rollback = useMutation({
    mutationFn: () => api.POST("/detections/packs/{name}/rollback", { params: { path: { name: pack.name } } }),
    onSuccess: (r) => { toast(`${pack.name} rolled back to version ${r.version}`, "success"); void client.invalidateQueries({ queryKey: ["detections"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const toggle = (s: string) => setStatuses(statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s]);
  return (
    <div className="flex flex-wrap items-center gap-3" data-testid="pack-policy">
      {STATUSES.map((s) => (
        <label key={s} className="flex items-center gap-1 text-sm">
          <input type="checkbox" checked={statuses.includes(s)} onChange={() => toggle(s)} data-testid={`status-${s}`} /> {s}
        </label>
      ))}
      <select className="input" aria-label="Minimum level" value={minLevel} onChange={(e) => setMinLevel(e.target.value)} data-testid="min-level">
        {LEVELS.map((l) => <option key={l}>{l}</option>)}
      </select>
      <ActionButton label="Save policy" permissions={["detections:write"]} busy={save.isPending} onRun={() => save.mutate()} testId="save-policy" />
      <ActionButton label="Roll back" permissions={["detections:write"]} busy={rollback.isPending} onRun={() => rollback.mutate()} testId="rollback-pack" />
    </div>
  );
}

function UpdateForm() {
  const client = useQueryClient();
  const toast = useToast();
  const [source, setSource] = useState("");
  const [sha256, setSha256] = useState("");
  const [report, setReport] = useState<PackReport | null>(null);
  const update = useMutation({
    mutationFn: () => api.POST("/detections/packs/update", { body: { source: source || null, sha256: sha256 || null } }),
    onSuccess: (r) => { setReport(r as PackReport); /* the generated answer types its tuples as arrays */ void client.invalidateQueries({ queryKey: ["detections"] }); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <div className="card mb-4">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Archive URL (empty: SigmaHQ)">
          <input className="input w-96" value={source} onChange={(e) => setSource(e.target.value)} data-testid="pack-source" />
        </Field>
        <Field label="SHA-256 (optional)">
          <input className="input w-96" value={sha256} onChange={(e) => setSha256(e.target.value)} />
        </Field>
        <ActionButton label="Update pack" variant="primary" permissions={["detections:write"]} busy={update.isPending} onRun={() => update.mutate()} testId="update-pack" />
      </div>
      {report && (
        <div className="mt-3 text-sm" data-testid="pack-report">
          Version {report.version}: {report.compiled} of {report.rules} rules compiled ({(report.compile_ratio * 100).toFixed(1)} %);
          {" "}{report.added} added, {report.updated} updated, {report.removed} removed.
          {report.failures.length > 0 && (
            <ul className="mt-2 list-disc pl-5 text-xs text-slate-400">
              {report.failures.slice(0, 20).map(([where, why]) => <li key={where}>{where}: {why}</li>)}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function Activity() {
  const query = useQuery({ queryKey: ["detections", "rule-stats"], queryFn: () => api.GET("/detections/rule-stats", { params: { query: { days: 14, limit: 15 } } }) });
  const stats = query.data;
  return (
    <section className="mt-6" aria-label="Rule activity">
      <h2 className="mb-2 text-lg font-semibold">Rule activity (14 days)</h2>
      <DataRegion query={query} unavailable={false} unavailableTitle="Rule activity unavailable" queueText="" empty={!stats?.noisiest.length && !stats?.never_fired} emptyText="No rule has fired yet">
        <table className="table" data-testid="noisiest-rules">
          <thead><tr><th>Noisiest rules</th><th>Hits per day</th><th>In window</th><th>Last hit</th></tr></thead>
          <tbody>{stats?.noisiest.map((r) => (
            <tr key={r.rule_uid}><td>{r.title}</td><td className="font-mono text-xs">{r.per_day.join(" ")}</td><td>{r.in_window}</td><td>{formatTime(r.last_hit_at)}</td></tr>
          ))}</tbody>
        </table>
        <p className="mt-3 text-sm" data-testid="never-fired">{stats?.never_fired ?? 0} enabled rules never fired on the data seen.</p>
      </DataRegion>
    </section>
  );
}

export function PacksPage() {
  const query = useQuery({ queryKey: ["detections", "packs"], queryFn: () => api.GET("/detections/packs") });
  const unavailable = useUnavailable(query);
  return (
    <Page title="Detections → Packs" unavailable={unavailable} toolbar={<Link className="btn" to="/detections">Rules</Link>}>
      {!unavailable && <UpdateForm />}
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Rule packs unavailable"
        queueText="Packs are stored in the database, which is not reachable right now." empty={!query.data?.length}
        emptyText="No rule pack installed: only the bundled rules run. Update pack installs SigmaHQ (or run `aurorasoc rules update`).">
        <table className="table" data-testid="packs-table">
          <thead><tr><th>Pack</th><th>Version</th><th>Compiled</th><th>Source</th><th>Licence</th><th>Installed</th></tr></thead>
          <tbody>{query.data?.map((p) => (
            <tr key={p.name}>
              <td><strong>{p.name}</strong><div className="mt-2"><PolicyEditor pack={p} /></div></td>
              <td>{p.version}</td>
              <td>{p.compiled} / {p.rule_count}</td>
              <td className="text-xs break-all">{p.source}<div className="text-slate-500">sha256 {p.sha256.slice(0, 16)}…</div></td>
              <td className="text-xs">{p.attribution ?? (p.license ?? "").split("\n")[0]}</td>
              <td className="whitespace-nowrap">{formatTime(p.created_at)}<div className="text-xs text-slate-500">{p.installed_by}</div></td>
            </tr>
          ))}</tbody>
        </table>
      </DataRegion>
      <Activity />
    </Page>
  );
}
