/** Reports: every generated case report, newest first, with Markdown / HTML / PDF downloads. */
import { oneOf } from "../api/enums";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { API_BASE, api } from "../api/client";
import { useSearchState } from "../hooks/useSearchState";
import { REPORT_TYPES } from "../components/GenerateReport";
import { DataRegion, Page, useUnavailable } from "../components/Runtime";
import { Chip, Field, Pager, formatTime } from "../components/ui";

const LIMIT = 50;

export function DownloadLinks({ id }: { id: string }) {
  return (
    <span className="space-x-2 whitespace-nowrap" data-testid="report-downloads">
      {(["md", "html", "pdf"] as const).map((f) => (
        <a key={f} href={`${API_BASE}/reports/${id}/download?format=${f}`} download data-format={f}>{f.toUpperCase()}</a>
      ))}
    </span>
  );
}

export function ReportsPage() {
  const { get, set, skip } = useSearchState();
  const reportType = get("report_type");
  const query = useQuery({
    queryKey: ["reports", "list", reportType, skip],
    queryFn: () => api.GET("/reports", { params: { query: { report_type: oneOf(REPORT_TYPES, reportType), skip, limit: LIMIT } } }),
    placeholderData: keepPreviousData,
  });
  const unavailable = useUnavailable(query);
  const items = query.data?.items ?? [];
  return (
    <Page title="Reports" unavailable={unavailable}>
      <div className="mb-3 flex items-end gap-3">
        <Field label="Type">
          <select className="input" value={reportType} disabled={unavailable} onChange={(e) => set({ report_type: e.target.value })}>
            <option value="">All</option>{REPORT_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <p className="text-sm text-slate-400">Generate reports from a case page (Cases → case → Reports).</p>
      </div>
      <DataRegion query={query} unavailable={unavailable} unavailableTitle="Reports unavailable"
        queueText="Reports are stored in the database, which is not reachable right now."
        empty={items.length === 0} emptyText="No reports generated">
        <table className="table" data-testid="reports-table">
          <thead><tr><th>Title</th><th>Type</th><th>Case</th><th>Author</th><th>Narrative</th><th>Created</th><th>Download</th></tr></thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-testid="report-row">
                <td>{r.title}</td><td><Chip>{r.report_type}</Chip></td>
                <td><Link to={`/cases/${r.case_id}`}>open case</Link></td>
                <td>{r.generated_by}</td><td>{r.narrative_source}</td>
                <td className="whitespace-nowrap">{formatTime(r.created_at)}</td>
                <td><DownloadLinks id={r.id} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager skip={skip} limit={LIMIT} total={query.data?.total ?? 0} onChange={(s) => set({ skip: s })} />
      </DataRegion>
    </Page>
  );
}
