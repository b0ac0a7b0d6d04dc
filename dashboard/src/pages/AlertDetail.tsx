/** One alert: raw event, typed IOCs, techniques; acknowledge / promote / link to case. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { AlertDetail, Investigation } from "../api/types";
import { useOperatorAction } from "../hooks/useOperatorAction";
import { PreviewPanel } from "../components/PreviewPanel";
import { ActionButton, DataRegion, Page, useUnavailable } from "../components/Runtime";
import { SuppressSimilarButton } from "./detections/SuppressSimilar";
import { useToast } from "../components/Toasts";
import { Chip, SeverityBadge, formatTime, prettyRaw } from "../components/ui";
import { EvidencePanel } from "./AlertEvidence";
import { InvestigateButton, InvestigationLinks } from "./agents/InvestigationLinks";
import { IntelMatches } from "./intel/IntelMatches";

type Tab = "overview" | "investigation" | "timeline";

function Overview({ alert }: { alert: AlertDetail }) {
  return (
    <>
    <EvidencePanel alertId={alert.id} />
    <div className="grid gap-4 lg:grid-cols-2">
      <div className="card">
        <h2 className="mb-2 font-medium">Description</h2>
        <p className="text-sm whitespace-pre-wrap text-slate-300">{alert.description || "No description."}</p>
        <h2 className="mt-4 mb-2 font-medium">Raw event</h2>
        <pre data-testid="raw-log" className="max-h-96 overflow-auto rounded bg-slate-950 p-3 text-xs text-slate-300">
          {prettyRaw(alert.raw_log) || "No raw event stored."}
        </pre>
      </div>
      <div className="flex flex-col gap-4">
        <IntelMatches matches={alert.intel_matches} />
        <div className="card" data-testid="alert-iocs">
          <h2 className="mb-2 font-medium">Indicators</h2>
          {alert.typed_iocs?.length ? (
            <table className="table">
              <thead><tr><th>Type</th><th>Value</th><th>Confidence</th><th>Status</th></tr></thead>
              <tbody>
                {alert.typed_iocs.map((i) => (
                  <tr key={i.id}><td>{i.type}</td><td className="font-mono break-all">{i.value}</td><td>{i.confidence}</td><td>{i.status}</td></tr>
                ))}
              </tbody>
            </table>
          ) : alert.iocs?.length ? (
            <div className="flex flex-wrap gap-1">{alert.iocs.map((i) => <Chip key={i}>{i}</Chip>)}</div>
          ) : (
            <p className="text-sm text-slate-400">No indicators extracted.</p>
          )}
        </div>
        <div className="card" data-testid="alert-techniques">
          <h2 className="mb-2 font-medium">ATT&CK techniques</h2>
          {alert.techniques?.length ? (
            <ul className="space-y-1 text-sm">
              {alert.techniques.map((t) => (
                <li key={t.id}>
                  <a href={t.url ?? undefined} target="_blank" rel="noreferrer" className="font-mono">{t.id}</a>{" "}
                  {t.name ?? "not in the bundled ATT&CK index"} {t.tactics?.map((x) => <Chip key={x}>{x}</Chip>)}
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-400">No techniques mapped.</p>
          )}
        </div>
      </div>
    </div>
    </>
  );
}

function Timeline({ alert }: { alert: AlertDetail }) {
  const rows: Array<[string, string | null | undefined]> = [
    ["First seen (event time)", alert.first_seen_at],
    ["Last seen (event time)", alert.last_seen_at],
    ["Stored", alert.created_at],
    ["Acknowledged" + (alert.acknowledged_by ? ` by ${alert.acknowledged_by}` : ""), alert.acknowledged_at],
    ["Updated", alert.updated_at],
  ];
  return (
    <dl className="card grid max-w-xl grid-cols-[14rem_1fr] gap-2 text-sm">
      {rows.filter(([, v]) => v).map(([k, v]) => (
        <div key={k} className="contents"><dt className="text-slate-400">{k}</dt><dd>{formatTime(v)}</dd></div>
      ))}
    </dl>
  );
}

function LinkToCase({ alertId, unavailable }: { alertId: string; unavailable: boolean }) {
  const [open, setOpen] = useState(false);
  const [caseId, setCaseId] = useState("");
  const toast = useToast();
  const cases = useQuery({
    queryKey: ["cases", "linkable"],
    queryFn: () => api.GET("/cases", { params: { query: { status: ["open", "in_progress"], limit: 50 } } }),
    enabled: open,
  });
  const action = useOperatorAction({
    request: (query) => api.POST("/alerts/{alert_id}/case-link", { params: { path: { alert_id: alertId }, query }, body: { case_id: caseId } }),
    invalidate: [["alerts"], ["cases"]],
    onDone: () => {
      toast("Alert linked to the case", "success");
      setOpen(false);
    },
  });
  if (!open) {
    return <ActionButton label="Link to case" permissions={["alerts:write", "cases:write"]} unavailable={unavailable}
      onRun={() => setOpen(true)} onPreview={() => setOpen(true)} testId="link-case" />;
  }
  return (
    <span className="flex items-center gap-2">
      <select className="input" aria-label="Case" value={caseId} onChange={(e) => setCaseId(e.target.value)}>
        <option value="">Choose a case…</option>
        {cases.data?.items.map((c) => <option key={c.id} value={c.id}>{c.title}</option>)}
      </select>
      <ActionButton label="Link" permissions={["alerts:write", "cases:write"]} disabled={!caseId} busy={action.busy}
        onRun={action.run} onPreview={action.preview} />
      <button className="btn" onClick={() => setOpen(false)}>Cancel</button>
      <PreviewPanel preview={action.lastPreview} onClose={action.clearPreview} />
    </span>
  );
}

export function AlertDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const toast = useToast();
  const [tab, setTab] = useState<Tab>("overview");
  const query = useQuery({ queryKey: ["alerts", "detail", id], queryFn: () => api.GET("/alerts/{alert_id}", { params: { path: { alert_id: id } } }) });
  const unavailable = useUnavailable(query);
  const acknowledge = useOperatorAction({
    request: (query) => api.POST("/alerts/{alert_id}/acknowledge", { params: { path: { alert_id: id }, query } }),
    invalidate: [["alerts"]],
    onDone: () => toast("Acknowledged as known-benign", "success"),
  });
  const promote = useOperatorAction({
    request: (query) => api.POST("/alerts/{alert_id}/promote", { params: { path: { alert_id: id }, query } }),
    invalidate: [["alerts"], ["cases"]],
    onDone: (created) => navigate(`/cases/${created.id}`),
  });
  const alert = query.data;
  const preview = promote.lastPreview ?? acknowledge.lastPreview;
  return (
    <Page title={alert?.title ?? "Alert"} unavailable={unavailable}
      toolbar={alert && (
        <>
          <InvestigateButton alertId={id} unavailable={unavailable} />
          <SuppressSimilarButton alertId={id} ruleUid={alert.metadata?.rule_uid} unavailable={unavailable} />
          <ActionButton label="Acknowledge" permissions={["alerts:write"]} unavailable={unavailable}
            busy={acknowledge.busy} onRun={acknowledge.run} onPreview={acknowledge.preview} testId="acknowledge" />
          {alert.case ? (
            <Link className="btn" to={`/cases/${alert.case.id}`} data-testid="open-case">Open case</Link>
          ) : (
            <>
              <ActionButton label="Promote to case" variant="primary" permissions={["alerts:write", "cases:write"]}
                unavailable={unavailable} busy={promote.busy} onRun={promote.run} onPreview={promote.preview} testId="promote" />
              <LinkToCase alertId={id} unavailable={unavailable} />
            </>
          )}
        </>
      )}>
      <PreviewPanel preview={preview} onClose={() => { promote.clearPreview(); acknowledge.clearPreview(); }} />
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Alert unavailable"
        queueText="This alert is stored in the database, which is not reachable right now." empty={false} emptyText="">
        {alert && (
          <>
            <div className="mb-4 flex flex-wrap items-center gap-4 text-sm">
              <SeverityBadge severity={alert.severity} />
              <span>Status: <strong data-testid="alert-status">{alert.status}</strong></span>
              <span>Source: {alert.source}</span>
              {alert.host && <span>Host: <strong data-testid="alert-host">{alert.host}</strong></span>}
              {alert.user_name && <span>User: <strong data-testid="alert-user">{alert.user_name}</strong></span>}
              <span>Occurrences: {alert.occurrence_count}</span>
              {alert.case && <span>Case: <Link to={`/cases/${alert.case.id}`}>{alert.case.title}</Link></span>}
            </div>
            <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
              {(["overview", "investigation", "timeline"] as Tab[]).map((t) => (
                <button key={t} role="tab" aria-selected={tab === t} className="tab capitalize" onClick={() => setTab(t)}>{t}</button>
              ))}
            </div>
            {tab === "overview" && <Overview alert={alert} />}
            {tab === "investigation" && (
              <div className="card max-w-3xl">
                <InvestigationLinks items={(alert.investigations ?? []) as unknown as Investigation[]}
                  empty="No agent has examined this alert yet: use Investigate to dispatch the orchestrator." />
              </div>
            )}
            {tab === "timeline" && <Timeline alert={alert} />}
          </>
        )}
      </DataRegion>
    </Page>
  );
}
