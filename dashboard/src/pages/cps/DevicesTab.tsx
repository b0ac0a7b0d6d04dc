/** Devices: the fleet table with URL-held filters and paging, plus the register form. */
import { oneOf } from "../../api/enums";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { ActionButton, DataRegion, useUnavailable } from "../../components/Runtime";
import { Field, Pager, formatTime } from "../../components/ui";
import { useSearchState } from "../../hooks/useSearchState";
import { CpsShell, useFleetSummary } from "./CpsShell";
import { RegisterDevice } from "./RegisterDevice";
import { AttestationPill, HealthPill, RiskBar, useCpsPolling } from "./shared";
import { ATTESTATION_STATUSES, HEALTHS, type Device } from "./types";

const LIMIT = 50;

function Select({ label, value, options, disabled, onChange }: {
  label: string; value: string; options: readonly string[]; disabled: boolean; onChange: (v: string) => void;
}) {
  return (
    <Field label={label}>
      <select className="input" value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
        <option value="">All</option>{options.map((o) => <option key={o}>{o}</option>)}
      </select>
    </Field>
  );
}

function DeviceRow({ d }: { d: Device }) {
  const href = `/cps/devices/${encodeURIComponent(d.device_id)}`;
  return (
    <tr data-testid="device-row">
      <td className="font-mono text-xs"><Link to={href}>{d.device_id}</Link></td>
      <td>{d.name}{d.trusted && <span className="ml-1 text-xs text-emerald-300" title="Verified devices are trusted">✓</span>}</td>
      <td>{d.board_family ?? "—"}</td>
      <td>{d.firmware_stack ?? "—"}</td>
      <td>{d.zone_id ?? "—"}</td>
      <td><AttestationPill status={d.attestation_status} /></td>
      <td><RiskBar risk={d.risk_score} /></td>
      <td className="whitespace-nowrap text-xs">{formatTime(d.last_seen_at)}</td>
      <td><HealthPill health={d.health} /></td>
    </tr>
  );
}

export function DevicesTab() {
  const { get, set, skip } = useSearchState();
  const filters = {
    q: get("q"), health: get("health"), attestation_status: get("attestation_status"),
    zone_id: get("zone_id"), device_type: get("device_type"), trusted: get("trusted"),
  };
  const [draft, setDraft] = useState({ q: filters.q, zone_id: filters.zone_id, device_type: filters.device_type });
  const [adding, setAdding] = useState(false);
  const query = useQuery({
    queryKey: ["cps", "devices", filters, skip],
    queryFn: () => api.GET("/cps/devices", { params: { query: {
      ...filters, health: oneOf(HEALTHS, filters.health), attestation_status: oneOf(ATTESTATION_STATUSES, filters.attestation_status),
      trusted: filters.trusted === "" ? undefined : filters.trusted === "true", skip, limit: LIMIT,
    } } }),
    placeholderData: keepPreviousData,
    refetchInterval: useCpsPolling(),
  });
  const unavailable = useUnavailable(query, useFleetSummary());
  const items = query.data?.items ?? [];
  const filtered = Object.values(filters).some(Boolean);
  return (
    <CpsShell unavailable={unavailable}
      toolbar={<ActionButton label="Register device" variant="primary" permissions={["cps:write"]} unavailable={unavailable}
        onRun={() => setAdding(true)} testId="register-device" />}>
      {adding && <RegisterDevice onClose={() => setAdding(false)} />}
      <form role="search" className="mb-3 flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); set(draft); }}>
        <Field label="Search">
          <input className="input w-56" data-testid="search-input" value={draft.q} disabled={unavailable} placeholder="ID, name or location"
            onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </Field>
        <Select label="Health" value={filters.health} options={HEALTHS} disabled={unavailable} onChange={(v) => set({ health: v })} />
        <Select label="Attestation" value={filters.attestation_status} options={ATTESTATION_STATUSES} disabled={unavailable}
          onChange={(v) => set({ attestation_status: v })} />
        <Select label="Trusted" value={filters.trusted} options={["true", "false"]} disabled={unavailable} onChange={(v) => set({ trusted: v })} />
        <Field label="Zone">
          <input className="input w-32" value={draft.zone_id} disabled={unavailable} onChange={(e) => setDraft({ ...draft, zone_id: e.target.value })} />
        </Field>
        <Field label="Device type">
          <input className="input w-32" value={draft.device_type} disabled={unavailable} onChange={(e) => setDraft({ ...draft, device_type: e.target.value })} />
        </Field>
        <button className="btn" disabled={unavailable}>Search</button>
      </form>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Live device fleet unavailable"
        queueText="Device status and telemetry from MQTT are stored once the database is reachable again."
        empty={items.length === 0} emptyText={filtered ? "No devices match these filters" : "No devices registered"}>
        <table className="table" data-testid="devices-table">
          <thead><tr><th>ID</th><th>Name</th><th>Family</th><th>Stack</th><th>Zone</th><th>Attestation</th><th>Risk</th><th>Last seen</th><th>Health</th></tr></thead>
          <tbody>{items.map((d) => <DeviceRow key={d.device_id} d={d} />)}</tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </CpsShell>
  );
}
