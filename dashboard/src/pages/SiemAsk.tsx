/**
 * Ask in words (POST /siem/ask): a question becomes a query in the search language — written by the
 * configured model, or offline from the stored hosts, users, processes and addresses it names. The
 * guided builder (GET /siem/ask/values, POST /siem/ask/build) picks conditions from stored values.
 * Either way the query is shown, and runs only when the analyst says so (it can be edited first).
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { Chip, Field } from "../components/ui";
import { useToast } from "../components/Toasts";

type Answer = { query: string; backend: "model" | "offline"; explanation: string };
type Condition = components["schemas"]["ConditionIn"];
type ConditionField = Condition["field"];

const FIELDS: [ConditionField, string][] = [
  ["host", "Host"], ["user_name", "User"], ["process_executable", "Process"],
  ["src_ip", "Source IP"], ["dst_ip", "Destination IP"], ["event_id", "Event id"],
];

function Builder({ onBuilt }: { onBuilt: (answer: Answer) => void }) {
  const toast = useToast();
  const values = useQuery({ queryKey: ["siem", "ask", "values"], queryFn: () => api.GET("/siem/ask/values") });
  const [field, setField] = useState<ConditionField>("host");
  const [value, setValue] = useState("");
  const [conditions, setConditions] = useState<Condition[]>([]);
  const build = useMutation({
    mutationFn: () => api.POST("/siem/ask/build", { body: { conditions } }),
    onSuccess: (r) => onBuilt({ query: r.query, backend: "offline", explanation: "Built from the conditions you picked." }),
    onError: (e) => toast((e as Error).message, "error"),
  });
  const options = values.data?.[field] ?? [];
  return (
    <div className="mt-2 flex flex-wrap items-end gap-2" data-testid="ask-builder">
      <Field label="Field">
        <select className="input" data-testid="builder-field" value={field} onChange={(e) => { setField(e.target.value as ConditionField); setValue(""); }}>
          {FIELDS.map(([name, label]) => <option key={name} value={name}>{label}</option>)}
        </select>
      </Field>
      <Field label="Stored value">
        <select className="input max-w-xs" data-testid="builder-value" value={value} onChange={(e) => setValue(e.target.value)}>
          <option value="">{options.length ? "Choose…" : "none stored"}</option>
          {options.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      </Field>
      <button type="button" className="btn" data-testid="builder-add" disabled={!value || conditions.length >= 12}
        onClick={() => { setConditions([...conditions, { field, value }]); setValue(""); }}>Add</button>
      {conditions.map((c, i) => (
        <button type="button" key={`${c.field}-${c.value}-${i}`} title="Remove" data-testid="builder-condition"
          onClick={() => setConditions(conditions.filter((_, j) => j !== i))}><Chip>{c.field}: {c.value} ×</Chip></button>
      ))}
      <button type="button" className="btn" data-testid="builder-build" disabled={!conditions.length || build.isPending}
        onClick={() => build.mutate()}>Build query</button>
    </div>
  );
}

export function AskInWords({ disabled, onRun }: { disabled: boolean; onRun: (query: string) => void }) {
  const toast = useToast();
  const [question, setQuestion] = useState("");
  const [builder, setBuilder] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [query, setQuery] = useState("");
  const show = (a: Answer) => { setAnswer(a); setQuery(a.query); };
  const ask = useMutation({
    mutationFn: () => api.POST("/siem/ask", { body: { question } }),
    onSuccess: show,
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (e: FormEvent) => { e.preventDefault(); if (question.trim()) ask.mutate(); };
  return (
    <section className="card mb-3" data-testid="ask-in-words" aria-label="Ask in words">
      <form className="flex flex-wrap items-end gap-2" onSubmit={submit}>
        <Field label="Ask in words (e.g. what did alice run on PC04?)">
          <input className="input w-96" data-testid="ask-input" maxLength={500} value={question} disabled={disabled}
            onChange={(e) => setQuestion(e.target.value)} />
        </Field>
        <button className="btn" data-testid="ask-button" disabled={disabled || !question.trim() || ask.isPending}>Ask</button>
        <button type="button" className="btn" data-testid="builder-toggle" disabled={disabled} onClick={() => setBuilder(!builder)}>
          {builder ? "Hide builder" : "Build from entities"}
        </button>
      </form>
      {builder && <Builder onBuilt={show} />}
      {answer && (
        <div className="mt-2 text-sm" data-testid="ask-answer">
          <p className="text-slate-400" data-testid="ask-explanation">
            <Chip>{answer.backend === "model" ? "model" : "offline"}</Chip> {answer.explanation}
          </p>
          {answer.query ? (
            <div className="mt-1 flex flex-wrap items-center gap-2">
              <input className="input w-[36rem] font-mono" aria-label="Proposed query" data-testid="ask-query" value={query}
                onChange={(e) => setQuery(e.target.value)} />
              <button type="button" className="btn-primary" data-testid="ask-run" disabled={!query.trim()} onClick={() => onRun(query)}>
                Run this query
              </button>
            </div>
          ) : null}
        </div>
      )}
    </section>
  );
}
