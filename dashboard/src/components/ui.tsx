/** Small presentational pieces shared by the pages. */
import type { KeyboardEvent, ReactNode } from "react";

export { SEVERITIES } from "../api/enums";

export const SEVERITY_COLOURS: Record<string, string> = {
  critical: "#f43f5e",
  high: "#f97316",
  medium: "#eab308",
  low: "#38bdf8",
  info: "#94a3b8",
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <span className="inline-flex items-center gap-1.5 text-xs font-medium uppercase" data-severity={severity}>
      <span className="h-2 w-2 rounded-full" style={{ background: SEVERITY_COLOURS[severity] ?? "#64748b" }} />
      {severity}
    </span>
  );
}

export function Chip({ children }: { children: ReactNode }) {
  return <span className="rounded bg-slate-800 px-1.5 py-0.5 text-xs text-slate-300">{children}</span>;
}

export function formatTime(value?: string | null): string {
  if (!value) return "—";
  return new Date(value).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

const TIME_SOURCES: Record<string, string> = {
  record: "time from the record",
  received: "the record has no time: arrival time shown",
  year_assumed: "the record has no year: year assumed",
};

/** Tooltip of an event-time cell: when the event arrived and where its time came from. */
export function eventTimeTitle(receivedAt: string, timeSource: string): string {
  return `received ${formatTime(receivedAt)} · ${TIME_SOURCES[timeSource] ?? `time from ${timeSource}`}`;
}

/** A time not read whole from the record is underlined (dotted), so it is not taken at face value. */
export function eventTimeClass(timeSource: string): string {
  return timeSource === "record" ? "whitespace-nowrap" : "whitespace-nowrap underline decoration-dotted";
}

interface PagerProps {
  skip: number;
  limit: number;
  total: number;
  onChange: (skip: number) => void;
  disabled?: boolean;
}

export function Pager({ skip, limit, total, onChange, disabled }: PagerProps) {
  const last = Math.min(skip + limit, total);
  return (
    <div className="mt-3 flex items-center gap-3 text-sm text-slate-400" data-testid="pager">
      <span>
        {total === 0 ? 0 : skip + 1}–{last} of {total.toLocaleString()}
      </span>
      <button className="btn" disabled={disabled || skip === 0} onClick={() => onChange(Math.max(0, skip - limit))}>
        Previous
      </button>
      <button className="btn" disabled={disabled || last >= total} onClick={() => onChange(skip + limit)}>
        Next
      </button>
    </div>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="flex flex-col gap-1 text-xs text-slate-400">
      {label}
      {children}
    </label>
  );
}

/** Props that make a clickable table row reachable and usable from the keyboard (Tab, Enter/Space). */
export function activatable(onActivate: () => void) {
  return {
    tabIndex: 0,
    onClick: onActivate,
    onKeyDown: (event: KeyboardEvent<HTMLElement>) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        onActivate();
      }
    },
  };
}

/** A raw record pretty-printed when it is JSON (EVTX, EVE, NDJSON), else as stored. */
export function prettyRaw(raw?: string | null): string | null {
  if (!raw) return null;
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

/** A column header that sorts the list: descending first, a second click ascending ("-field" / "field"). */
export function SortHeader({ field, label, sort, onSort }: { field: string; label: string; sort: string; onSort: (s: string) => void }) {
  const active = sort.replace("-", "") === field;
  const descending = sort.startsWith("-");
  const next = active && descending ? field : `-${field}`;
  return (
    <th aria-sort={active ? (descending ? "descending" : "ascending") : "none"}>
      <button className="hover:text-slate-100" onClick={() => onSort(next)}>
        {label} {active ? (descending ? "↓" : "↑") : ""}
      </button>
    </th>
  );
}
