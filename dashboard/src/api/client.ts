/** The console's only way to the API: cookies, typed errors, 401 → login, 409 mode block → toast. */

export const API_BASE = "/api/v1";
/** Sent on every write: the server refuses cookie-authenticated writes that prove no same origin. */
const CSRF_HEADER = "X-Aurora-CSRF";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
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
  const error = new ApiError(response.status, detail);
  if (response.status === 401 && handle401) redirectToLogin();
  if (response.status === 409 && error.code === "mode_blocks_mutation") {
    onModeBlocked(`Blocked by the current mode: ${error.message}`);
  }
  throw error;
}

export function isUnavailable(error: unknown): boolean {
  return error instanceof ApiError && error.unavailable;
}
