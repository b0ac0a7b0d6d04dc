/** Case detail sections for the response side: approvals, playbook runs, reports (from GET /cases/{id}). */
import { useState } from "react";
import { Link } from "react-router-dom";
import type { Approval, CaseDetail, Execution, Report } from "../api/types";
import { useSession } from "../app/session";
import { ExecutionSteps, StatusText } from "../components/ExecutionSteps";
import { GenerateReport } from "../components/GenerateReport";
import { RunPlaybook } from "../components/RunPlaybook";
import { ActionButton } from "../components/Runtime";
import { Chip, SeverityBadge, formatTime } from "../components/ui";
import { DownloadLinks } from "./Reports";

export function CaseApprovals({ found }: { found: CaseDetail }) {
  const approvals = (found.approvals ?? []) as unknown as Approval[];
  return (
    <div className="card" data-testid="case-approvals">
      <h2 className="mb-2 font-medium">Approvals ({approvals.length})</h2>
      {approvals.length === 0 ? <p className="text-sm text-slate-400">No approvals requested for this case.</p> : (
        <ul className="space-y-1 text-sm">
          {approvals.map((a) => (
            <li key={a.id} data-testid="case-approval">
              <SeverityBadge severity={a.risk_level} /> {a.action_type} on <code>{a.target ?? "—"}</code> · <StatusText status={a.status} />
              {a.status === "pending" && <> · <Link to="/approvals">decide</Link></>}
              {a.decided_by && <span className="text-slate-400"> by {a.decided_by}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function CaseExecutions({ found }: { found: CaseDetail }) {
  const { can } = useSession();
  const [running, setRunning] = useState(false);
  const executions = (found.executions ?? []) as unknown as Execution[];
  const alerts = (found.alerts ?? []).map((a) => ({ id: a.id, title: a.title }));
  return (
    <div className="card" data-testid="case-executions">
      <div className="mb-2 flex items-center">
        <h2 className="font-medium">Playbook runs ({executions.length})</h2>
        {can("playbooks:read") && (
          <span className="ml-auto"><ActionButton label="Run playbook" permissions={["playbooks:execute"]} testId="run-playbook"
            onRun={() => setRunning(true)} onPreview={() => setRunning(true)} /></span>
        )}
      </div>
      {running && <RunPlaybook caseId={found.id} alerts={alerts} onClose={() => setRunning(false)} />}
      {executions.length === 0 ? <p className="text-sm text-slate-400">No playbook has run for this case.</p> : (
        <ul className="space-y-3">
          {executions.map((x) => (
            <li key={x.id} data-testid="case-execution">
              <p className="mb-1 text-sm"><strong>{x.playbook_name}</strong> v{x.playbook_version} · <StatusText status={x.status} />
                {x.preview && <> <Chip>preview</Chip></>} · {formatTime(x.started_at ?? x.created_at)}</p>
              <ExecutionSteps execution={x} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function CaseReports({ found }: { found: CaseDetail }) {
  const { can } = useSession();
  const reports = (found.reports ?? []) as unknown as Report[];
  return (
    <div className="card" data-testid="case-reports">
      <h2 className="mb-2 font-medium">Reports ({reports.length})</h2>
      {reports.length === 0 ? <p className="mb-2 text-sm text-slate-400">No reports generated for this case.</p> : (
        <ul className="mb-3 space-y-1 text-sm">
          {reports.map((r) => (
            <li key={r.id} data-testid="case-report"><Chip>{r.report_type}</Chip> {r.title} · {formatTime(r.created_at)} · <DownloadLinks id={r.id} /></li>
          ))}
        </ul>
      )}
      {can("reports:generate") && <GenerateReport caseId={found.id} />}
    </div>
  );
}
