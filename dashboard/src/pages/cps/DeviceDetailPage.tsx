/** One device (/cps/devices/:id): registry facts, telemetry charts, attestation history, correlations, actions. */
import { useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { ActionButton, DataRegion, ErrorPanel, Page, SkeletonRows, useUnavailable } from "../../components/Runtime";
import { SeverityBadge, formatTime } from "../../components/ui";
import { DeviceActions } from "./DeviceActions";
import { DeviceEdit } from "./DeviceEdit";
import { AttestationPill, HealthPill, RiskBar, useCpsFeed, useCpsPolling } from "./shared";
import { TelemetryCharts } from "./TelemetryCharts";
import type { AttestationRecord, Correlation, DeviceDetail } from "./types";

const TELEMETRY_POINTS = 1000;

const FIRMWARE_TONE: Record<string, string> = {
  verified: "bg-emerald-900 text-emerald-100",
  unknown: "bg-slate-700 text-slate-200",
  mismatch: "bg-rose-900 text-rose-100",
  failed: "bg-rose-900 text-rose-100",
};

/** Firmware trust is shown with its grounds: "verified" only after a match with a signed bundle. */
function FirmwareTrust({ device }: { device: DeviceDetail }) {
  const state = device.firmware_state;
  return (
    <div className="mb-3 text-sm" data-testid="firmware-trust" data-state={state}>
      <span className={`rounded px-1.5 py-0.5 text-xs ${FIRMWARE_TONE[state] ?? ""}`} data-testid="firmware-state">firmware {state}</span>
      {state === "verified"
        ? <span className="ml-2 text-xs text-slate-400">hash matches a registered signed bundle</span>
        : device.firmware_reason && <span className="ml-2 text-xs text-amber-200" data-testid="firmware-reason">{device.firmware_reason}</span>}
      {device.quarantined && (
        <p className="mt-2 text-xs text-amber-300" data-testid="device-quarantined">
          Quarantined: auto-registered from MQTT, untrusted until an operator approves it.
        </p>
      )}
    </div>
  );
}

function Facts({ device }: { device: DeviceDetail }) {
  const rows: Array<[string, ReactNode]> = [
    ["Device ID", <code key="id">{device.device_id}</code>], ["Type", device.device_type],
    ["Board family", device.board_family ?? "—"], ["Firmware stack", device.firmware_stack ?? "—"],
    ["Firmware version", device.firmware_version ?? "—"], ["Zone", device.zone_id ?? "—"], ["Location", device.location ?? "—"],
    ["Boot count", device.boot_count ?? "—"], ["Public key", device.has_public_key ? "enrolled" : "none (cannot attest)"],
    ["Last seen", formatTime(device.last_seen_at)], ["Last attested", formatTime(device.last_attested_at)], ["Registered", formatTime(device.created_at)],
  ];
  return (
    <div className="card" data-testid="device-facts">
      <div className="mb-3 flex flex-wrap items-center gap-3">
        <HealthPill health={device.health} /><AttestationPill status={device.attestation_status} />
        <span className={device.trusted ? "text-xs text-emerald-300" : "text-xs text-amber-300"}>{device.trusted ? "trusted" : "untrusted — excluded from response actions"}</span>
        <RiskBar risk={device.risk_score} />
      </div>
      <FirmwareTrust device={device} />
      <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-1 text-sm">
        {rows.map(([k, v]) => <div key={k} className="contents"><dt className="text-slate-400">{k}</dt><dd>{v}</dd></div>)}
      </dl>
    </div>
  );
}

function Attestations({ records }: { records: AttestationRecord[] }) {
  if (records.length === 0) return <p className="text-sm text-slate-400">No attestation records.</p>;
  return (
    <table className="table" data-testid="attestation-history">
      <thead><tr><th>When</th><th>Result</th><th>Reason</th><th>Firmware</th><th>Boot</th><th>Hash</th></tr></thead>
      <tbody>
        {records.map((r) => (
          <tr key={`${r.created_at}-${r.nonce ?? ""}`} data-testid="attestation-row">
            <td className="whitespace-nowrap text-xs">{formatTime(r.created_at)}</td>
            <td><AttestationPill status={r.result} /></td>
            <td className="text-xs">{r.reason ?? "—"}</td>
            <td>{r.firmware_version ?? "—"}</td>
            <td>{r.boot_count ?? "—"}</td>
            <td className="font-mono text-xs" title={r.firmware_hash ?? undefined}>{r.firmware_hash ? `${r.firmware_hash.slice(0, 12)}…` : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Correlations({ items }: { items: Correlation[] }) {
  if (items.length === 0) return <p className="text-sm text-slate-400">No physical-cyber correlations for this device.</p>;
  return (
    <table className="table" data-testid="device-correlations">
      <thead><tr><th>Type</th><th>Severity</th><th>Alert</th><th>When</th></tr></thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.alert_id} data-testid="correlation-row">
            <td className="font-mono text-xs">{c.correlation_type}</td><td><SeverityBadge severity={c.severity} /></td>
            <td><Link to={`/alerts/${c.alert_id}`}>{c.title}</Link></td><td className="whitespace-nowrap text-xs">{formatTime(c.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A secondary read inside the device region: its own skeleton and error, the page stays usable. */
function Section<T>({ query, children }: { query: UseQueryResult<T>; children: (data: T) => ReactNode }) {
  if (query.error) return <ErrorPanel error={query.error} onRetry={() => void query.refetch()} />;
  if (query.data === undefined) return <SkeletonRows rows={2} />;
  return <>{children(query.data)}</>;
}

function useDeviceReads(id: string) {
  const path = { device_id: id };
  const refetchInterval = useCpsPolling();
  const device = useQuery({ queryKey: ["cps", "device", id], queryFn: () => api.GET("/cps/devices/{device_id}", { params: { path } }), refetchInterval });
  const telemetry = useQuery({
    refetchInterval,
    queryKey: ["cps", "telemetry", id],
    queryFn: () => api.GET("/cps/devices/{device_id}/telemetry", { params: { path, query: { limit: TELEMETRY_POINTS } } }),
  });
  const correlations = useQuery({
    refetchInterval,
    queryKey: ["cps", "correlations", id],
    queryFn: () => api.GET("/cps/correlations", { params: { query: { device_id: id, limit: 50 } } }),
  });
  return { device, telemetry, correlations };
}

export function DeviceDetailPage() {
  const { id = "" } = useParams();
  useCpsFeed();
  const { device, telemetry, correlations } = useDeviceReads(id);
  const unavailable = useUnavailable(device, telemetry, correlations);
  const [editing, setEditing] = useState(false);
  const d = device.data;
  return (
    <Page title={d ? `${d.name}` : "Device"} unavailable={unavailable}
      toolbar={<>
        <Link className="btn" to="/cps">← Fleet</Link>
        {d && <ActionButton label="Edit" permissions={["cps:write"]} unavailable={unavailable} onRun={() => setEditing(true)} testId="edit-device" />}
      </>}>
      <DataRegion query={device} unavailable={unavailable} unavailableTitle="Device unavailable"
        queueText="Device state, telemetry and attestations are stored in the database, which is not reachable right now." empty={false} emptyText="">
        {d && (
          <>
            <DeviceActions device={d} unavailable={unavailable} />
            {editing && <DeviceEdit device={d} onClose={() => setEditing(false)} />}
            <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,2fr)]">
              <Facts device={d} />
              <div className="card">
                <h2 className="mb-2 font-medium">Attestation history</h2>
                <Attestations records={d.attestations} />
              </div>
            </div>
            <h2 className="mb-2 mt-5 font-medium">Telemetry</h2>
            <Section query={telemetry}>{(t) => <TelemetryCharts items={t.items} />}</Section>
            <div className="card mt-5">
              <h2 className="mb-2 font-medium">Correlations</h2>
              <Section query={correlations}>{(c) => <Correlations items={c.items} />}</Section>
            </div>
          </>
        )}
      </DataRegion>
    </Page>
  );
}
