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
        <ul className="mt-2 space-y-1 text-xs text-slate-400" data-testid="case-links">
          {evidence.links.map((link, i) => (
            <li key={`${link.alert_id}-${i}`}>
              alert {link.alert_id?.slice(0, 8)} linked by{" "}
              {link.reasons.map((r) => `${REASON_LABELS[r.kind] ?? r.kind} ${r.value}`).join("; ")}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
