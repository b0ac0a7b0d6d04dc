/** Settings: operation mode, users, API keys (raw key shown once), audit log, service health. */
import { MODES, ROLES, type Role, type RuntimeMode } from "../api/enums";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { ApiKeyCreated } from "../api/types";
import { useRuntime, useSession } from "../app/session";
import { DataRegion, Page, useUnavailable } from "../components/Runtime";
import { useToast } from "../components/Toasts";
import { Field, Pager, formatTime } from "../components/ui";

const TABS = { mode: "Operation mode", users: "Users", keys: "API keys", audit: "Audit log", status: "System status" } as const;
type Tab = keyof typeof TABS;

function useWrite<T>(fn: (body: T) => Promise<unknown>, invalidate: string[], done?: (r: unknown) => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: fn,
    onSuccess: (result) => {
      void client.invalidateQueries({ queryKey: invalidate });
      done?.(result);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
}

function ModePanel() {
  const mode = useRuntime();
  const [choice, setChoice] = useState<RuntimeMode>(mode.mode);
  const change = useWrite((m: RuntimeMode) => api.PUT("/system/mode", { body: { mode: m } }), ["system", "mode"]);
  return (
    <div className="card max-w-2xl" data-testid="mode-panel">
      <p className="text-sm">Current mode: <strong>{mode.mode}</strong> — {mode.description}</p>
      <p className="mt-1 text-sm text-slate-400">Database: {mode.is_database_available ? "reachable" : "not reachable"} · reads from {mode.read_data_source}</p>
      <fieldset className="mt-4 flex gap-4">
        <legend className="mb-2 text-sm text-slate-400">Switch mode</legend>
        {MODES.map((m) => (
          <label key={m} className="flex items-center gap-1 text-sm">
            <input type="radio" name="mode" value={m} checked={choice === m} onChange={() => setChoice(m)} /> {m}
          </label>
        ))}
      </fieldset>
      <button className="btn-primary mt-3" disabled={choice === mode.mode || change.isPending} onClick={() => change.mutate(choice)}>
        Apply mode
      </button>
    </div>
  );
}

function UsersPanel() {
  const { can } = useSession();
  const query = useQuery({ queryKey: ["users", "list"], queryFn: () => api.GET("/users", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  const [form, setForm] = useState<{ username: string; password: string; role: Role }>({ username: "", password: "", role: "analyst" });
  const create = useWrite((body: typeof form) => api.POST("/users", { body }), ["users"], () =>
    setForm({ username: "", password: "", role: "analyst" }));
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(form); };
  return (
    <>
      {can("users:manage") && (
        <form className="card mb-3 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="New user">
          <Field label="Username"><input className="input" value={form.username} required disabled={unavailable} onChange={(e) => setForm({ ...form, username: e.target.value })} /></Field>
          <Field label="Password"><input className="input" type="password" autoComplete="new-password" value={form.password} required disabled={unavailable} onChange={(e) => setForm({ ...form, password: e.target.value })} /></Field>
          <Field label="Role">
            <select className="input" value={form.role} disabled={unavailable} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
              {ROLES.map((r) => <option key={r}>{r}</option>)}
            </select>
          </Field>
          <button className="btn-primary" disabled={unavailable || create.isPending}>Create user</button>
        </form>
      )}
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="User list unavailable"
        queueText="Accounts are stored in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No users">
        <table className="table" data-testid="users-table">
          <thead><tr><th>Username</th><th>Role</th><th>Provider</th><th>Active</th><th>Last login</th></tr></thead>
          <tbody>{query.data?.items.map((u) => (
            <tr key={u.id}><td>{u.username}</td><td>{u.role}</td><td>{u.auth_provider}</td><td>{u.is_active ? "yes" : "no"}</td><td>{formatTime(u.last_login_at)}</td></tr>
          ))}</tbody>
        </table>
      </DataRegion>
    </>
  );
}

function KeysPanel() {
  const query = useQuery({ queryKey: ["apikeys"], queryFn: () => api.GET("/auth/api-keys", { params: { query: { limit: 200 } } }) });
  const unavailable = useUnavailable(query);
  const [name, setName] = useState("");
  const [raw, setRaw] = useState<string | null>(null);
  const create = useWrite((service_name: string) => api.POST("/auth/api-keys", { body: { service_name } }),
    ["apikeys"], (r) => { setRaw((r as ApiKeyCreated).api_key); setName(""); });
  const revoke = useWrite((id: string) => api.DELETE("/auth/api-keys/{key_id}", { params: { path: { key_id: id } } }), ["apikeys"]);
  return (
    <>
      <form className="card mb-3 flex items-end gap-3" aria-label="New API key" onSubmit={(e) => { e.preventDefault(); create.mutate(name); }}>
        <Field label="Service name"><input className="input" value={name} required disabled={unavailable} onChange={(e) => setName(e.target.value)} /></Field>
        <button className="btn-primary" disabled={unavailable || create.isPending}>Issue key</button>
      </form>
      {raw && (
        <div className="card mb-3 border-amber-700" data-testid="raw-api-key">
          <p className="text-sm text-amber-200">Copy this key now — it is shown only once.</p>
          <code className="mt-1 block break-all text-sky-300">{raw}</code>
          <button className="btn mt-2" onClick={() => setRaw(null)}>Done</button>
        </div>
      )}
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="API keys unavailable"
        queueText="Keys are stored in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No API keys issued">
        <table className="table" data-testid="keys-table">
          <thead><tr><th>Service</th><th>Prefix</th><th>Created</th><th>Expires</th><th>Last used</th><th /></tr></thead>
          <tbody>{query.data?.items.map((k) => (
            <tr key={k.id}>
              <td>{k.service_name}</td><td className="font-mono">{k.key_prefix}</td><td>{formatTime(k.created_at)}</td>
              <td>{formatTime(k.expires_at)}</td><td>{formatTime(k.last_used_at)}</td>
              <td>{k.revoked_at ? "revoked" : <button className="btn" onClick={() => revoke.mutate(k.id)}>Revoke</button>}</td>
            </tr>
          ))}</tbody>
        </table>
      </DataRegion>
    </>
  );
}

function AuditPanel() {
  const [skip, setSkip] = useState(0);
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const query = useQuery({
    queryKey: ["audit", actor, action, skip],
    queryFn: () => api.GET("/audit", { params: { query: { actor, action, skip, limit: 50 } } }),
  });
  const unavailable = useUnavailable(query);
  return (
    <>
      <div className="mb-3 flex gap-3">
        <Field label="Actor"><input className="input" value={actor} disabled={unavailable} onChange={(e) => { setActor(e.target.value); setSkip(0); }} /></Field>
        <Field label="Action"><input className="input" value={action} disabled={unavailable} onChange={(e) => { setAction(e.target.value); setSkip(0); }} /></Field>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Audit log unavailable"
        queueText="The audit log is stored in the database, which is not reachable right now." empty={!query.data?.items.length} emptyText="No audit entries match">
        <table className="table" data-testid="audit-table">
          <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Resource</th><th>Mode</th></tr></thead>
          <tbody>{query.data?.items.map((a) => (
            <tr key={a.id}><td className="whitespace-nowrap">{formatTime(a.timestamp)}</td><td>{a.actor}</td><td>{a.action}</td>
              <td className="font-mono text-xs">{a.resource_type}{a.resource_id ? `/${a.resource_id}` : ""}</td><td>{a.mode}</td></tr>
          ))}</tbody>
        </table>
        <Pager skip={skip} limit={50} total={query.data?.total ?? 0} onChange={setSkip} />
      </DataRegion>
    </>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return <div className="contents"><dt className="text-slate-400">{label}</dt><dd>{children}</dd></div>;
}

/** GET /system/status: dependencies, bus, the roles this process runs, agents, dead letters. */
function StatusPanel() {
  const query = useQuery({ queryKey: ["system", "status"], queryFn: () => api.GET("/system/status") });
  const s = query.data;
  const dead = (n: number | null | undefined) => (n === null || n === undefined ? "not kept (in-process bus)" : n);
  return (
    <DataRegion query={query} unavailable={false} unavailableTitle="" queueText="" empty={false} emptyText="">
      {s && (
        <dl className="card grid max-w-2xl grid-cols-[auto_1fr] gap-x-6 gap-y-2 text-sm" data-testid="status-panel">
          <Row label="Version">{s.health.version}</Row>
          <Row label="Mode">{s.health.mode}</Row>
          {(["database", "redis", "nats", "mqtt"] as const).map((k) => (
            <Row key={k} label={k}><span data-testid={`dependency-${k}`}>{s.health[k]}</span></Row>
          ))}
          <Row label="Event bus">{s.bus}</Row>
          <Row label="Roles in this process"><span data-testid="status-roles">{s.roles.join(", ") || "API only"}</span></Row>
          <Row label="Agent backend">{String(s.agents.backend)} ({String(s.agents.a2a_mode)})</Row>
          <Row label="Open circuits">{(s.agents.open_circuits as string[]).join(", ") || "none"}</Row>
          <Row label="Dead letters">{dead(s.dead_letters["aurora:dead_letter"])}</Row>
          <Row label="Agent dead letters">{dead(s.dead_letters["aurora:agent:dead_letter"])}</Row>
          <Row label="MQTT ingest">
            {s.mqtt_ingest ? (
              <span data-testid="status-mqtt">
                {s.mqtt_ingest.consumers} consumer(s): {s.mqtt_ingest.received} received, {s.mqtt_ingest.stored} stored,{" "}
                {s.mqtt_ingest.rejected} rejected, {s.mqtt_ingest.dropped} dropped, {s.mqtt_ingest.failed} failed; broker dropped{" "}
                {s.mqtt_ingest.broker_dropped ?? "unknown (no $SYS)"}
              </span>
            ) : "no MQTT consumer running"}
          </Row>
        </dl>
      )}
    </DataRegion>
  );
}

export function SettingsPage() {
  const [params, setParams] = useSearchParams();
  const tab = (params.get("tab") as Tab) in TABS ? (params.get("tab") as Tab) : "mode";
  return (
    <Page title="Settings">
      <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className="tab" onClick={() => setParams({ tab: t })}>{TABS[t]}</button>
        ))}
      </div>
      {tab === "mode" && <ModePanel />}
      {tab === "users" && <UsersPanel />}
      {tab === "keys" && <KeysPanel />}
      {tab === "audit" && <AuditPanel />}
      {tab === "status" && <StatusPanel />}
    </Page>
  );
}
