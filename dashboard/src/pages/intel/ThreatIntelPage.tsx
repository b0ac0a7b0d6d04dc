/** Threat Intel (/threat-intel): the IOC table with filters, lookup/similar panel, detail drawer, add IOC. */
import { IOC_STATUSES, IOC_TYPES, oneOf } from "../../api/enums";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { useSearchState } from "../../hooks/useSearchState";
import { ActionButton, DataRegion, Page, useUnavailable } from "../../components/Runtime";
import { useToast } from "../../components/Toasts";
import { Chip, Field, Pager, activatable, formatTime } from "../../components/ui";
import { IocDetailPanel } from "./IocDetail";
import { FeedsPanel } from "./FeedsPanel";
import { LookupPanel } from "./LookupPanel";

/** Why the list can be empty after an import: observables are not indicators until someone says so. */
const NO_IOCS =
  "No IOCs recorded. What alerts extract stays an observable until a feed matches it, an analyst marks it or a rule names it; look any value up above.";

const LIMIT = 50;

function AddIoc({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState({ value: "", confidence: "0.5", description: "" });
  const add = useMutation({
    mutationFn: () => api.POST("/iocs", { body: { value: form.value, confidence: Number(form.confidence), description: form.description || null } }),
    onSuccess: (ioc) => { toast(`Recorded ${ioc.type} ${ioc.value}`, "success"); void client.invalidateQueries({ queryKey: ["iocs"] }); onClose(); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (e: FormEvent) => { e.preventDefault(); add.mutate(); };
  return (
    <form className="card mb-4 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="Add IOC">
      <Field label="Value (type is inferred)"><input className="input w-96 font-mono" value={form.value} required autoFocus onChange={(e) => setForm({ ...form, value: e.target.value })} /></Field>
      <Field label="Confidence"><input className="input w-24" type="number" min={0} max={1} step={0.05} value={form.confidence} onChange={(e) => setForm({ ...form, confidence: e.target.value })} /></Field>
      <Field label="Description"><input className="input w-72" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} /></Field>
      <button className="btn-primary" disabled={add.isPending}>Add</button>
      <button className="btn" type="button" onClick={onClose}>Cancel</button>
    </form>
  );
}

export function ThreatIntelPage() {
  const { get, set, skip } = useSearchState();
  const filters = { q: get("q"), type: get("type"), status: get("status"), source: get("source") };
  const [search, setSearch] = useState(filters.q);
  const [adding, setAdding] = useState(false);
  const [showFeeds, setShowFeeds] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const query = useQuery({
    queryKey: ["iocs", "list", filters, skip],
    queryFn: () => api.GET("/iocs", { params: { query: { ...filters, type: oneOf(IOC_TYPES, filters.type), status: oneOf(IOC_STATUSES, filters.status), skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <Page title="Threat Intel" unavailable={unavailable}
      toolbar={<>
        <button className="btn" aria-expanded={showFeeds} data-testid="feeds-toggle" onClick={() => setShowFeeds(!showFeeds)}>Feeds</button>
        <ActionButton label="Add IOC" variant="primary" permissions={["iocs:write"]} unavailable={unavailable} onRun={() => setAdding(true)} testId="add-ioc" />
      </>}>
      {showFeeds && <FeedsPanel />}
      {adding && <AddIoc onClose={() => setAdding(false)} />}
      <LookupPanel disabled={unavailable} />
      <form role="search" className="mb-3 flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); set({ q: search }); }}>
        <Field label="Search"><input className="input w-64" data-testid="search-input" value={search} disabled={unavailable} placeholder="Value or description" onChange={(e) => setSearch(e.target.value)} /></Field>
        <Field label="Type">
          <select className="input" value={filters.type} disabled={unavailable} onChange={(e) => set({ type: e.target.value })}>
            <option value="">All</option>{IOC_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <Field label="Status">
          <select className="input" value={filters.status} disabled={unavailable} onChange={(e) => set({ status: e.target.value })}>
            <option value="">All</option>{IOC_STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <button className="btn" disabled={unavailable}>Search</button>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="IOC database unavailable"
        queueText="IOCs extracted by the pipeline are stored with their alerts once the database is reachable."
        empty={items.length === 0} emptyText={Object.values(filters).some(Boolean) ? "No IOCs match these filters" : NO_IOCS}>
        <div className={open ? "grid gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]" : ""}>
          <div>
            <table className="table" data-testid="iocs-table">
              <thead><tr><th>Type</th><th>Value</th><th>Source</th><th>Confidence</th><th>Sightings</th><th>First / last seen</th><th>TLP</th><th>Status</th></tr></thead>
              <tbody>
                {items.map((i) => (
                  <tr key={i.id} data-testid="ioc-row" className="cursor-pointer hover:bg-slate-900" {...activatable(() => setOpen(i.id))}>
                    <td><Chip>{i.type}</Chip></td>
                    <td className="max-w-xs break-all font-mono text-xs"><button className="text-left text-sky-300">{i.value}</button></td>
                    <td>{i.source}</td><td>{Math.round(i.confidence * 100)}%</td><td>{i.sightings}</td>
                    <td className="whitespace-nowrap text-xs">{formatTime(i.first_seen)}<br />{formatTime(i.last_seen)}</td>
                    <td>{i.tlp}</td><td>{i.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
          </div>
          {open && <IocDetailPanel id={open} onClose={() => setOpen(null)} />}
        </div>
      </DataRegion>
    </Page>
  );
}
