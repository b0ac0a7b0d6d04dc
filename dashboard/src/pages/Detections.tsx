/** Sigma rules: filters, hit counters, compile status; YAML editor with a test panel; enable/disable and
 * save/create (detections:write). */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import type { Rule } from "../api/types";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Chip, Field, Pager, formatTime } from "../components/ui";
import { RuleEditorPanel } from "./detections/RuleEditor";

const LEVELS = ["critical", "high", "medium", "low", "informational"];

export function DetectionsPage() {
  const client = useQueryClient();
  const toast = useToast();
  const [filters, setFilters] = useState({ q: "", level: "", enabled: "" });
  const [skip, setSkip] = useState(0);
  const [editing, setEditing] = useState<{ id: string | null } | null>(null);
  const query = useQuery({
    queryKey: ["detections", "rules", filters, skip],
    queryFn: () => api.GET("/detections/rules", { params: { query: {
      q: filters.q, level: filters.level, enabled: filters.enabled === "" ? undefined : filters.enabled === "true", skip, limit: 50,
    } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const toggle = useMutation({
    mutationFn: (rule: Rule) => api.PATCH("/detections/rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: { enabled: !rule.enabled } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["detections"] }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  const update = (change: Partial<typeof filters>) => { setSkip(0); setFilters({ ...filters, ...change }); };
  return (
    <Page title="Detections" unavailable={unavailable}
      toolbar={<>
        <Link className="btn" to="/detections/coverage" data-testid="coverage-link">ATT&CK coverage</Link>
        <Link className="btn" to="/detections/packs" data-testid="open-packs">Packs &amp; activity</Link>
        <ActionButton label="New rule" permissions={["detections:write"]} unavailable={unavailable} testId="new-rule" onRun={() => setEditing({ id: null })} />
      </>}>
      {editing && !unavailable && (
        <div className="mb-4"><RuleEditorPanel ruleId={editing.id} onClose={() => setEditing(null)} /></div>
      )}
      <div className="mb-3 flex flex-wrap items-end gap-3" role="search" aria-label="Filter rules">
        <Field label="Search">
          <input className="input w-64" data-testid="search-input" value={filters.q} disabled={unavailable} onChange={(e) => update({ q: e.target.value })} />
        </Field>
        <Field label="Level">
          <select className="input" value={filters.level} disabled={unavailable} onChange={(e) => update({ level: e.target.value })}>
            <option value="">All</option>{LEVELS.map((l) => <option key={l}>{l}</option>)}
          </select>
        </Field>
        <Field label="Enabled">
          <select className="input" value={filters.enabled} disabled={unavailable} onChange={(e) => update({ enabled: e.target.value })}>
            <option value="">All</option><option value="true">enabled</option><option value="false">disabled</option>
          </select>
        </Field>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Rule catalogue unavailable"
        queueText="Rules are stored in the database, which is not reachable right now; the detection engine keeps its loaded rules."
        empty={!query.data?.items.length} emptyText="No rules loaded">
        <table className="table" data-testid="rules-table">
          <thead><tr><th>Title</th><th>Level</th><th>Log source</th><th>Techniques</th><th>Hits</th><th>Last hit</th><th>Supported</th><th>Enabled</th></tr></thead>
          <tbody>{query.data?.items.map((r) => (
            <tr key={r.id}>
              <td>
                <button className="text-left text-sky-300 hover:underline" data-testid="rule-open" onClick={() => setEditing({ id: r.id })}>{r.title}</button>
                <div className="text-xs text-slate-500">{r.pack ? `pack ${r.pack}` : r.origin} · {r.kind}</div>
              </td>
              <td>{r.level ?? "—"}</td>
              <td className="text-xs">{[r.logsource_product, r.logsource_category, r.logsource_service].filter(Boolean).join(" / ")}</td>
              <td className="space-x-1">{r.tags.filter((t) => /^attack\.t\d/.test(t)).map((t) => <Chip key={t}>{t.slice(7).toUpperCase()}</Chip>)}</td>
              <td>{r.hit_count}</td>
              <td className="whitespace-nowrap">{formatTime(r.last_hit_at)}</td>
              <td title={r.unsupported_reason ?? undefined}>{r.supported ? "yes" : `no: ${r.unsupported_reason ?? ""}`}</td>
              <td className="flex items-center gap-2">{r.enabled ? "on" : "off"} <ActionButton label={r.enabled ? "Disable" : "Enable"} permissions={["detections:write"]} busy={toggle.isPending} onRun={() => toggle.mutate(r)} /></td>
            </tr>
          ))}</tbody>
        </table>
        <Pager skip={skip} limit={50} total={query.data?.total ?? 0} onChange={setSkip} />
      </DataRegion>
    </Page>
  );
}
