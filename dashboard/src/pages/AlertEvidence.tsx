/** Alert evidence (spec §27): event time, entities, process tree, contributing events, observables. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { ActionButton } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Chip, eventTimeClass, eventTimeTitle, formatTime } from "../components/ui";

/** GET /alerts/{id}/evidence (a free-form object in the OpenAPI schema). */
type ProcessNode = { entity_id?: string | null; pid?: number | null; executable?: string | null; command_line?: string | null };
type EvidenceEvent = {
  id: string; event_time: string; received_at: string; time_source: string; source: string; channel?: string | null;
  event_id?: string | null; host?: string | null; user_name?: string | null; src_ip?: string | null;
  process_executable?: string | null; message?: string | null;
};
type Observable = { type: string; value: string; role?: string; path?: string; benign?: string; indicator?: string };
export type Evidence = {
  first_seen_at: string; last_seen_at: string; created_at: string; entities: Record<string, unknown>;
  observables: Observable[]; process_tree: ProcessNode[]; events: EvidenceEvent[]; raw_event?: string | null;
  siem_search: { q: string; since: string; until: string };
};

function siemLink(search: Evidence["siem_search"]): string {
  const params = new URLSearchParams({ tab: "search", q: search.q, since: search.since, until: search.until });
  return `/siem?${params.toString()}`;
}

function ProcessTree({ nodes }: { nodes: ProcessNode[] }) {
  if (!nodes.length) return <p className="text-sm text-slate-400">The events name no process.</p>;
  return (
    <ol className="space-y-2 text-sm" data-testid="process-tree">
      {nodes.map((node, depth) => (
        <li key={`${node.entity_id ?? depth}`} style={{ marginLeft: `${depth * 1.25}rem` }} data-testid="process-node">
          <span className="text-slate-400">{depth === 0 ? "process" : depth === 1 ? "parent" : `ancestor ${depth}`}</span>{" "}
          <span className="font-mono break-all">{node.executable ?? "unknown image"}</span>
          {node.pid != null && <span className="text-slate-400"> · pid {node.pid}</span>}
          {node.command_line && <pre className="mt-1 whitespace-pre-wrap break-all rounded bg-slate-950 p-2 text-xs">{node.command_line}</pre>}
        </li>
      ))}
    </ol>
  );
}

function ObservableRow({ item, host }: { item: Observable; host?: string | null }) {
  const client = useQueryClient();
  const toast = useToast();
  const done = (text: string) => { toast(text, "success"); void client.invalidateQueries({ queryKey: ["alerts"] }); };
  const promote = useMutation({
    mutationFn: () => api.POST("/observables/promote", { body: { value: item.value } }),
    onSuccess: () => done(`${item.value} is now an indicator`), onError: (e) => toast((e as Error).message, "error"),
  });
  const allow = useMutation({
    mutationFn: () => api.POST("/observables/allowlist", { body: { kind: "value", value: item.value, host_scope: host ?? "" } }),
    onSuccess: () => done(`${item.value} allow-listed${host ? ` on ${host}` : ""}`), onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <tr data-testid="observable-row">
      <td>{item.type}</td><td className="font-mono break-all">{item.value}</td><td>{item.role ?? "—"}</td>
      <td>{item.indicator ? <Chip>indicator</Chip> : item.benign ? <Chip>{item.benign.replace("_", " ")}</Chip> : "observable"}</td>
      <td className="space-x-1 whitespace-nowrap">
        {!item.indicator && <ActionButton label="Promote" permissions={["iocs:write"]} busy={promote.isPending} onRun={() => promote.mutate()} />}
        {!item.benign && <ActionButton label="Allow-list" permissions={["iocs:write"]} busy={allow.isPending} onRun={() => allow.mutate()} />}
      </td>
    </tr>
  );
}

export function EvidencePanel({ alertId }: { alertId: string }) {
  const query = useQuery({ queryKey: ["alerts", "evidence", alertId], // The schema types this answer as a free object (no response_model yet), so its shape is stated here.
    queryFn: () => api.GET("/alerts/{alert_id}/evidence", { params: { path: { alert_id: alertId } } }) as Promise<Evidence> });
  const evidence = query.data;
  if (!evidence) return null;
  const entity = (key: string) => (evidence.entities[key] as string | undefined) ?? null;
  const facts: [string, string | null, string][] = [
    ["Event time", `${formatTime(evidence.first_seen_at)}${evidence.last_seen_at !== evidence.first_seen_at ? ` → ${formatTime(evidence.last_seen_at)}` : ""}`, "evidence-event-time"],
    ["Stored", formatTime(evidence.created_at), "evidence-created"],
    ["Host", entity("host.name"), "evidence-host"],
    ["User", entity("user.name"), "evidence-user"],
    ["Source → destination", entity("source.ip") || entity("destination.ip") ? `${entity("source.ip") ?? "?"} → ${entity("destination.ip") ?? "?"}` : null, "evidence-ips"],
  ];
  return (
    <section className="card mb-4" data-testid="evidence-panel" aria-label="Evidence">
      <h2 className="mb-2 font-medium">Evidence</h2>
      <dl className="mb-3 grid grid-cols-[10rem_1fr] gap-1 text-sm">
        {facts.filter(([, v]) => v).map(([k, v, testId]) => (
          <div key={k} className="contents"><dt className="text-slate-400">{k}</dt><dd data-testid={testId} className="break-all">{v}</dd></div>
        ))}
      </dl>
      <h3 className="mb-1 text-sm font-medium">Process tree</h3>
      <ProcessTree nodes={evidence.process_tree} />
      <h3 className="mt-3 mb-1 text-sm font-medium">
        Contributing events ({evidence.events.length}){" "}
        <Link className="text-xs" to={siemLink(evidence.siem_search)} data-testid="evidence-siem-link">open in SIEM search</Link>
      </h3>
      <table className="table text-sm" data-testid="evidence-events">
        <thead><tr><th>Event time</th><th>Channel</th><th>Event</th><th>Host</th><th>Source IP</th><th>Process / message</th></tr></thead>
        <tbody>{evidence.events.map((e) => (
          <tr key={e.id} data-testid="evidence-event">
            <td className={eventTimeClass(e.time_source)} title={eventTimeTitle(e.received_at, e.time_source)}>{formatTime(e.event_time)}</td>
            <td>{e.channel ?? e.source}</td><td>{e.event_id ?? "—"}</td><td>{e.host ?? "—"}</td><td>{e.src_ip ?? "—"}</td>
            {/* a web request, a syslog line: no process, but the message says what happened */}
            <td className="font-mono break-all text-xs" data-testid="evidence-event-what">{e.process_executable ?? e.message ?? "—"}</td>
          </tr>
        ))}</tbody>
      </table>
      {evidence.observables.length > 0 && (
        <>
          <h3 className="mt-3 mb-1 text-sm font-medium">Observables</h3>
          <table className="table text-sm" data-testid="evidence-observables">
            <thead><tr><th>Type</th><th>Value</th><th>Role</th><th>Class</th><th /></tr></thead>
            <tbody>{evidence.observables.map((o) => <ObservableRow key={o.value} item={o} host={entity("host.name")} />)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
