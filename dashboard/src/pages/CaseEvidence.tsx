/** Case evidence (spec §27.4): summary, event-time span, tactic chain, entities, why alerts were linked. */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { Chip, formatTime } from "../components/ui";

type Reason = { kind: string; value: string; alert_id?: string | null };
type CaseEvidence = {
  alert_count: number; event_time_start?: string | null; event_time_end?: string | null; tactic_chain: string[];
  entities: { hosts: string[]; users: string[]; processes: string[]; ips: string[] };
  links: { alert_id?: string | null; reasons: Reason[] }[]; summary: string;
};

const REASON_LABELS: Record<string, string> = { shared_entity: "shared entity", shared_ioc: "shared indicator", tactic_chain: "tactic chain" };

/** Each distinct reason with the number of alerts it linked, most first: a 75-alert case reads in a few
 * lines. A tactic chain counts by its host (the chain itself grows as alerts join). */
function linkReasons(links: CaseEvidence["links"]): [string, number][] {
  const counts = new Map<string, number>();
  for (const link of links) {
    const labels = new Set(link.reasons.map((r) => r.kind === "tactic_chain"
      ? `tactic chain on ${r.value.split(": ")[0]}` : `${REASON_LABELS[r.kind] ?? r.kind} ${r.value}`));
    labels.forEach((label) => counts.set(label, (counts.get(label) ?? 0) + 1));
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

export function CaseEvidencePanel({ caseId }: { caseId: string }) {
  const query = useQuery({ queryKey: ["cases", "evidence", caseId], // The schema types this answer as a free object (no response_model yet), so its shape is stated here.
    queryFn: () => api.GET("/cases/{case_id}/evidence-summary", { params: { path: { case_id: caseId } } }) as Promise<CaseEvidence> });
  const evidence = query.data;
  if (!evidence) return null;
  const groups: [string, string[]][] = [
    ["Hosts", evidence.entities.hosts], ["Users", evidence.entities.users],
    ["Processes", evidence.entities.processes], ["IPs", evidence.entities.ips],
  ];
  return (
    <section className="card" data-testid="case-evidence" aria-label="Case evidence">
      {/* the paragraph itself is the Summary card's (one text for page, panel and reports) */}
      <h2 className="mb-2 font-medium">Evidence and links</h2>
      {evidence.event_time_start && (
        <p className="mb-2 text-sm" data-testid="case-span">
          Event time: {formatTime(evidence.event_time_start)} → {formatTime(evidence.event_time_end)}
        </p>
      )}
      {evidence.tactic_chain.length > 0 && (
        <p className="mb-2 text-sm" data-testid="case-tactics">Tactics: {evidence.tactic_chain.join(" → ")}</p>
      )}
      <dl className="grid grid-cols-[6rem_1fr] gap-1 text-sm">
        {groups.filter(([, values]) => values.length).map(([label, values]) => (
          <div key={label} className="contents"><dt className="text-slate-400">{label}</dt>
            <dd className="flex flex-wrap gap-1">{values.map((v) => <Chip key={v}>{v}</Chip>)}</dd></div>
        ))}
      </dl>
      {evidence.links.length > 0 && (
        <>
          <p className="mt-2 text-sm text-slate-400">Why its alerts were linked</p>
          <ul className="text-sm" data-testid="case-link-reasons">
            {linkReasons(evidence.links).map(([label, count]) => (
              <li key={label} data-testid="case-link-reason">{label} · {count} alert{count === 1 ? "" : "s"}</li>
            ))}
          </ul>
          <details className="mt-1">
            <summary className="cursor-pointer text-xs text-slate-400">Each link ({evidence.links.length})</summary>
            <ul className="mt-1 space-y-1 text-xs text-slate-400" data-testid="case-links">
              {evidence.links.map((link, i) => (
                <li key={`${link.alert_id}-${i}`}>
                  alert {link.alert_id?.slice(0, 8)} linked by{" "}
                  {link.reasons.map((r) => `${REASON_LABELS[r.kind] ?? r.kind} ${r.value}`).join("; ")}
                </li>
              ))}
            </ul>
          </details>
        </>
      )}
    </section>
  );
}
