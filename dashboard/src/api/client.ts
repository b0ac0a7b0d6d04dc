/** The console's only way to the API: cookies, typed errors, 401 → login, 409 mode block → toast, 429 → retry banner. */
import { parseRetryAfter, reportRateLimited } from "../app/rateLimit";

export const API_BASE = "/api/v1";
/** Sent on every write: the server refuses cookie-authenticated writes that prove no same origin. */
const CSRF_HEADER = "X-Aurora-CSRF";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    /** Seconds to wait before retrying (429 Retry-After). */
    readonly retryAfter?: number,
  ) {
    super(describe(status, detail));
  }

  get code(): string | undefined {
    return typeof this.detail === "object" && this.detail !== null
      ? ((this.detail as { code?: string }).code ?? undefined)
      : undefined;
  }

  get unavailable(): boolean {
    return this.status === 503;
  }

  get rateLimited(): boolean {
    return this.status === 429;
  }
}

function describe(status: number, detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d as { msg?: string }).msg ?? "").join("; ");
  if (detail && typeof detail === "object" && "message" in detail) return String(detail.message);
  return `Request failed (${status})`;
}

type Listener = (message: string) => void;
let onModeBlocked: Listener = () => undefined;

/** The toast layer registers here to hear about 409 `mode_blocks_mutation`. */
export function setModeBlockedListener(listener: Listener): void {
  onModeBlocked = listener;
}

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function redirectToLogin(): void {
  if (window.location.pathname === "/login") return;
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  window.location.assign(`/login?next=${next}`);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  /** The boot sequence handles its own 401 (it must not bounce while deciding). */
  handle401?: boolean;
  /** Send a string body as-is with this type (e.g. playbook YAML as `text/yaml`); a FormData body goes as multipart. */
  contentType?: string;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", body, query, handle401 = true, contentType } = options;
  const raw = contentType !== undefined && typeof body === "string";
  const form = body instanceof FormData; // multipart: the browser sets the boundary header itself
  const response = await fetch(API_BASE + withQuery(path, query), {
    method,
    credentials: "include",
    headers: {
      ...(body === undefined || form ? { Accept: "application/json" } : { "Content-Type": raw && contentType ? contentType : "application/json" }),
      ...(method === "GET" ? {} : { [CSRF_HEADER]: "1" }),
    },
    body: body === undefined ? undefined : raw || form ? body : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (response.ok) return payload as T;
  const detail = (payload as { detail?: unknown } | null)?.detail ?? null;
  const retryAfter = response.status === 429 ? parseRetryAfter(response.headers.get("Retry-After")) : undefined;
  const error = new ApiError(response.status, detail, retryAfter);
  if (retryAfter !== undefined) reportRateLimited(retryAfter);
  if (response.status === 401 && handle401) redirectToLogin();
  if (response.status === 409 && error.code === "mode_blocks_mutation") {
    onModeBlocked(`Blocked by the current mode: ${error.message}`);
  }
  throw error;
}

export function isRateLimited(error: unknown): error is ApiError {
  return error instanceof ApiError && error.rateLimited;
}

/** Query retry policy: a 429 waits for its Retry-After (a few times), other API answers are facts. */
export function retryPolicy(count: number, error: unknown): boolean {
  if (isRateLimited(error)) return count < 8;
  return !(error instanceof ApiError) && count < 1;
}

export function retryDelay(count: number, error: unknown): number {
  if (isRateLimited(error)) return (error.retryAfter ?? 5) * 1000 + Math.random() * 1000;
  return Math.min(1000 * 2 ** count, 30_000);
}

export function isUnavailable(error: unknown): boolean {
  return error instanceof ApiError && error.unavailable;
}
