/** Generate a case report (reports:generate); a preview renders it without storing (any mode). */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, previewQuery } from "../api/client";
import { REPORT_TYPES } from "../api/enums";
import type { ReportPreview } from "../api/types";
import { useRuntime } from "../app/session";
import { ActionButton } from "./Runtime";
import { useToast } from "./Toasts";
import { Field } from "./ui";

export { REPORT_TYPES } from "../api/enums";
type ReportType = (typeof REPORT_TYPES)[number];

export function GenerateReport({ caseId }: { caseId: string }) {
  const client = useQueryClient();
  const toast = useToast();
  const mode = useRuntime();
  const [type, setType] = useState<ReportType>("technical");
  const [preview, setPreview] = useState<ReportPreview | null>(null);
  const generate = useMutation({
    mutationFn: (asPreview: boolean) =>
      api.POST("/reports/generate", { params: { query: previewQuery(asPreview) }, body: { case_id: caseId, report_type: type } }),
    onSuccess: (answer) => {
      if ("preview" in answer) return setPreview(answer);
      toast(`Report stored: ${answer.title}`, "success");
      void client.invalidateQueries({ queryKey: ["cases"] });
      void client.invalidateQueries({ queryKey: ["reports"] });
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return (
    <div data-testid="generate-report">
      <div className="flex flex-wrap items-end gap-2">
        <Field label="Report type">
          <select className="input" value={type} data-testid="report-type" onChange={(e) => { setType(e.target.value as ReportType); setPreview(null); }}>
            {REPORT_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        {mode.is_mutations_allowed && <button className="btn" disabled={generate.isPending} onClick={() => generate.mutate(true)}>Preview</button>}
        <ActionButton label="Generate report" permissions={["reports:generate"]} busy={generate.isPending} testId="generate-report-button"
          onRun={() => generate.mutate(false)} onPreview={() => generate.mutate(true)} />
      </div>
      {preview && (
        <div className="mt-3" data-testid="report-preview">
          <div className="mb-1 flex items-center text-sm">
            <span>Preview ({preview.mode}) — not stored: <strong>{preview.report.title}</strong></span>
            <button className="btn ml-auto" onClick={() => setPreview(null)}>Dismiss</button>
          </div>
          <iframe title="Report preview" sandbox="" srcDoc={preview.report.content_html} className="h-96 w-full rounded bg-white" />
        </div>
      )}
    </div>
  );
}
