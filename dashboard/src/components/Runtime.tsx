/** Runtime truth on every data page (spec §24.2): banner, unavailable region, gated action buttons. */
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { UseQueryResult } from "@tanstack/react-query";
import { isUnavailable } from "../api/client";
import { useRuntime, useSession } from "../app/session";

/** A page is "unavailable" when the mode says so or any of its reads answered 503. */
export function useUnavailable(...queries: Array<Pick<UseQueryResult, "error">>): boolean {
  const mode = useRuntime();
  return mode.read_data_source === "unavailable" || queries.some((q) => isUnavailable(q.error));
}

export function readonlyReason(mode: { mode: string; is_mutations_allowed: boolean }): string | null {
  if (mode.is_mutations_allowed) return null;
  return mode.mode === "dummy" ? "Dummy mode — changes are blocked" : "Dry run — actions are previews";
}

export function RuntimeBanner({ unavailable }: { unavailable: boolean }) {
  const mode = useRuntime();
  let text: string | null = null;
  let tone = "border-amber-700 bg-amber-950/60 text-amber-100";
  if (unavailable) {
    text = `Live data unavailable — the database is not reachable (mode: ${mode.mode})`;
    tone = "border-rose-700 bg-rose-950/60 text-rose-100";
  } else if (mode.uses_showcase_data) {
    text = "Showcase data — dummy mode serves sample records while the database is not reachable; changes are blocked";
    tone = "border-violet-700 bg-violet-950/60 text-violet-100";
  } else {
    text = readonlyReason(mode);
  }
  if (!text) return null;
  return (
    <div
      role="status"
      data-testid="runtime-banner"
      data-mode={mode.mode}
      data-read-source={unavailable ? "unavailable" : mode.read_data_source}
      className={`mb-4 rounded border px-4 py-2 text-sm ${tone}`}
    >
      {text}
    </div>
  );
}

interface PageProps {
  title: string;
  unavailable?: boolean;
  toolbar?: ReactNode;
  children: ReactNode;
}

export function Page({ title, unavailable = false, toolbar, children }: PageProps) {
  const mode = useRuntime();
  return (
    <section className="mx-auto max-w-[1600px] p-5" aria-labelledby="page-title">
      <header className="mb-4 flex flex-wrap items-center gap-3">
        <h1 id="page-title" className="text-xl font-semibold text-slate-50">
          {title}
        </h1>
        {mode.uses_showcase_data && (
          <span data-testid="showcase-badge" className="rounded bg-violet-800 px-2 py-0.5 text-xs text-violet-50">
            Showcase data
          </span>
        )}
        <div className="ml-auto flex flex-wrap items-center gap-2">{toolbar}</div>
      </header>
      <RuntimeBanner unavailable={unavailable} />
      {children}
    </section>
  );
}

export function SkeletonRows({ rows = 6 }: { rows?: number }) {
  return (
    <div data-testid="loading-skeleton" aria-busy="true" className="space-y-2">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="h-9 animate-pulse rounded bg-slate-800/70" />
      ))}
    </div>
  );
}

export function EmptyState({ text, children }: { text: string; children?: ReactNode }) {
  return (
    <div data-testid="empty-state" className="rounded border border-dashed border-slate-700 p-8 text-center text-slate-400">
      <p>{text}</p>
      {children}
    </div>
  );
}

interface UnavailableProps {
  title: string;
  queueText: string;
  onRetry: () => void;
}

export function Unavailable({ title, queueText, onRetry }: UnavailableProps) {
  const { can } = useSession();
  return (
    <div data-testid="data-unavailable" className="rounded border border-rose-800 bg-rose-950/30 p-6">
      <h2 className="text-lg font-medium text-rose-100">{title}</h2>
      <p className="mt-1 text-sm text-rose-200/80">{queueText}</p>
      <div className="mt-4 flex gap-3">
        <button className="btn" data-testid="retry-button" onClick={onRetry}>
          Retry
        </button>
        {can("settings:manage") && (
          <Link className="btn" data-testid="mode-settings-link" to="/settings?tab=mode">
            Settings → Operation mode
          </Link>
        )}
      </div>
    </div>
  );
}

export function ErrorPanel({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <div data-testid="data-error" className="rounded border border-slate-700 p-6">
      <p className="text-slate-300">Could not load this data: {error instanceof Error ? error.message : "unknown error"}</p>
      <button className="btn mt-3" data-testid="retry-button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

export function Forbidden({ permission }: { permission: string }) {
  return (
    <section className="p-8" data-testid="forbidden">
      <h1 className="text-xl font-semibold text-slate-50">403 — Not permitted</h1>
      <p className="mt-2 text-slate-400">
        Your account lacks the <code className="text-sky-300">{permission}</code> permission needed for this page.
      </p>
    </section>
  );
}

interface DataRegionProps {
  query: Pick<UseQueryResult, "isPending" | "error" | "refetch">;
  unavailable: boolean;
  unavailableTitle: string;
  queueText: string;
  empty: boolean;
  emptyText: string;
  children: ReactNode;
}

/** loading → skeleton; unavailable → queue message; other error → error panel; 200 + none → empty. */
export function DataRegion(props: DataRegionProps) {
  const { query, unavailable } = props;
  const retry = () => void query.refetch();
  if (unavailable) return <Unavailable title={props.unavailableTitle} queueText={props.queueText} onRetry={retry} />;
  if (query.isPending) return <SkeletonRows />;
  if (query.error) return <ErrorPanel error={query.error} onRetry={retry} />;
  if (props.empty) return <EmptyState text={props.emptyText} />;
  return <>{props.children}</>;
}

interface ActionProps {
  label: string;
  permissions: string[];
  unavailable?: boolean;
  onRun: () => void;
  /** Given when the endpoint supports `?preview=true`: offered instead of a disabled button. */
  onPreview?: () => void;
  busy?: boolean;
  testId?: string;
  disabled?: boolean;
  variant?: "primary" | "default";
}

export function ActionButton(props: ActionProps) {
  const mode = useRuntime();
  const { can } = useSession();
  if (!props.permissions.every(can)) return null;
  const cls = props.variant === "primary" ? "btn-primary" : "btn";
  const reason = readonlyReason(mode);
  if (props.unavailable) {
    return (
      <button className={cls} disabled title="Live data unavailable" data-testid={props.testId}>
        {props.label}
      </button>
    );
  }
  if (reason && props.onPreview) {
    return (
      <button className={cls} onClick={props.onPreview} disabled={props.busy || props.disabled} data-testid={props.testId} title={reason}>
        Preview: {props.label}
      </button>
    );
  }
  if (reason) {
    return (
      <span data-testid="readonly-reason" title={reason} className="inline-flex">
        <button className={cls} disabled data-testid={props.testId} aria-label={`${props.label} (${reason})`}>
          {props.label}
        </button>
      </span>
    );
  }
  return (
    <button className={cls} onClick={props.onRun} disabled={props.busy || props.disabled} data-testid={props.testId}>
      {props.label}
    </button>
  );
}
