/** Indicator feeds (STIX 2.1, MISP, CSV, text): status of each subscription, refresh now, subscribe (issue 17). */
import { FEED_KINDS, TLPS, oneOf } from "../../api/enums";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import type { IntelFeed } from "../../api/types";
import { ActionButton } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Field, formatTime } from "../../components/ui";
import { TlpBadge } from "./IntelMatches";


function Subscribe({ onDone }: { onDone: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState({ name: "", kind: "stix", url: "", tlp: "amber", confidence: "0.5", refresh_minutes: "60" });
  const add = useMutation({
    mutationFn: () => api.POST("/intel/feeds", { body: {
      ...form, kind: oneOf(FEED_KINDS, form.kind) ?? "stix", tlp: oneOf(TLPS, form.tlp) ?? "amber",
      confidence: Number(form.confidence), refresh_minutes: Number(form.refresh_minutes) } }),
    onSuccess: (feed) => {
      toast(feed.last_status === "ok" ? `${feed.name}: ${feed.indicator_count} indicators` : `${feed.name}: ${feed.last_error}`,
        feed.last_status === "ok" ? "success" : "error");
      void client.invalidateQueries({ queryKey: ["intel", "feeds"] });
      onDone();
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (e: FormEvent) => { e.preventDefault(); add.mutate(); };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <form className="mt-3 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="Subscribe to a feed">
      <Field label="Name"><input className="input w-40" required value={form.name} onChange={set("name")} /></Field>
      <Field label="Kind"><select className="input" value={form.kind} onChange={set("kind")}>{FEED_KINDS.map((k) => <option key={k}>{k}</option>)}</select></Field>
      <Field label="URL (MISP: feed base URL)"><input className="input w-96" type="url" required value={form.url} onChange={set("url")} /></Field>
      <Field label="Default TLP"><select className="input" value={form.tlp} onChange={set("tlp")}>{TLPS.map((t) => <option key={t}>{t}</option>)}</select></Field>
      <Field label="Default confidence"><input className="input w-24" type="number" min={0} max={1} step={0.05} value={form.confidence} onChange={set("confidence")} /></Field>
      <Field label="Refresh (min)"><input className="input w-24" type="number" min={1} value={form.refresh_minutes} onChange={set("refresh_minutes")} /></Field>
      <button className="btn-primary" disabled={add.isPending}>Subscribe</button>
    </form>
  );
}

export function FeedsPanel() {
  const client = useQueryClient();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const feeds = useQuery({ queryKey: ["intel", "feeds"], queryFn: () => api.GET("/intel/feeds") });
  const refresh = useMutation({
    mutationFn: (feed: IntelFeed) => api.POST("/intel/feeds/{feed_id}/refresh", { params: { path: { feed_id: feed.id } } }),
    onSuccess: (result) => toast(`Refreshed: ${result.indicators} indicators`, "success"),
    onError: (e) => toast((e as Error).message, "error"),
    onSettled: () => void client.invalidateQueries({ queryKey: ["intel", "feeds"] }),
  });
  return (
    <div className="card mb-4" data-testid="feeds-panel">
      <div className="flex items-center justify-between">
        <h2 className="font-medium">Indicator feeds</h2>
        <ActionButton label={adding ? "Cancel" : "Subscribe"} permissions={["iocs:write"]} onRun={() => setAdding(!adding)} testId="feed-subscribe" />
      </div>
      {adding && <Subscribe onDone={() => setAdding(false)} />}
      {feeds.isError && <p className="mt-2 text-sm text-rose-300">Feeds unavailable: {(feeds.error as Error).message}</p>}
      {feeds.data && (feeds.data.length ? (
        <table className="table mt-2" data-testid="feeds-table">
          <thead><tr><th>Name</th><th>Kind</th><th>Default TLP</th><th>Indicators</th><th>Last refresh</th><th>Status</th><th /></tr></thead>
          <tbody>{feeds.data.map((f) => (
            <tr key={f.id} data-testid="feed-row">
              <td><div>{f.name}</div><div className="max-w-xs truncate text-xs text-slate-500" title={f.url}>{f.url}</div></td>
              <td>{f.kind}</td><td><TlpBadge tlp={f.tlp} /></td><td>{f.indicator_count}</td>
              <td className="whitespace-nowrap">{f.last_refresh_at ? formatTime(f.last_refresh_at) : "never"} · every {f.refresh_minutes} min</td>
              <td className={f.last_status === "error" ? "text-rose-300" : ""} title={f.last_error ?? undefined}>
                {f.last_status}{f.last_error && `: ${f.last_error}`}
              </td>
              <td><ActionButton label="Refresh" permissions={["iocs:write"]} busy={refresh.isPending} onRun={() => refresh.mutate(f)} /></td>
            </tr>
          ))}</tbody>
        </table>
      ) : <p className="mt-2 text-sm text-slate-400">No feeds: subscribe to a STIX 2.1 bundle, a MISP feed or a CSV/text list.</p>)}
    </div>
  );
}
