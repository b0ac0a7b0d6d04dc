/**
 * The console's only way to the API: a client typed by the OpenAPI schema (openapi-fetch over
 * `schema.ts`), so a wrong path, query parameter or body is a compile error. Cookies, CSRF header,
 * typed errors, 401 → login, 409 mode block → toast, 429 → retry banner.
 */
import createClient, { type FetchResponse, type MaybeOptionalInit, type Middleware } from "openapi-fetch";
import { parseRetryAfter, reportRateLimited } from "../app/rateLimit";
import type { paths } from "./schema";
import type { Preview } from "./types";
import type { paths as inputPaths } from "./schema-input";

export const API_BASE = "/api/v1";
/** Sent on every write: the server refuses cookie-authenticated writes that prove no same origin. */
const CSRF_HEADER = "X-Aurora-CSRF";

/**
 * Responses come from `schema.ts`, where a field with a default is always present; request bodies come
 * from `schema-input.d.ts`, where a field with a default may be left out (the server fills it in).
 */
type Operation<P extends keyof paths, M extends keyof paths[P]> = M extends keyof inputPaths[P]
  ? Omit<paths[P][M], "requestBody"> & Pick<inputPaths[P][M], "requestBody" & keyof inputPaths[P][M]>
  : paths[P][M];

/** The schema's paths under `/api/v1`, keyed without the prefix (the client's base URL adds it). */
export type ApiPaths = {
  [P in keyof paths as P extends `${typeof API_BASE}${infer Rest}` ? Rest : never]: {
    [M in keyof paths[P]]: paths[P][M] extends never ? never : Operation<P, M>;
  };
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    /** Seconds to wait before retrying (Retry-After of a 429 or a 503 `server_busy`). */
    readonly retryAfter?: number,
  ) {
    super(describe(status, detail));
  }

  get code(): string | undefined {
    return typeof this.detail === "object" && this.detail !== null
      ? ((this.detail as { code?: string }).code ?? undefined)
      : undefined;
  }

  /** The server is shedding load (bounded admission): wait for Retry-After, it is not down. */
  get busy(): boolean {
    return this.status === 503 && this.code === "server_busy";
  }

  get unavailable(): boolean {
    return this.status === 503 && !this.busy;
  }

  get rateLimited(): boolean {
    return this.status === 429 || this.busy;
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

/** Filters come from forms: an empty field means "no filter", so "" is dropped with undefined and null. */
export function serializeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  return params.toString();
}

/** `?preview=true` only when previewing: the real write carries no preview parameter at all. */
export function previewQuery(preview: boolean): { preview?: boolean } | undefined {
  return preview ? { preview: true } : undefined;
}

/** A write that can preview answers `T | Preview`; called without `preview=true` it answers T. */
export async function applied<T>(pending: Promise<T | Preview>): Promise<Exclude<T, Preview>> {
  const result = await pending;
  if (isPreview(result)) throw new Error("The server answered a preview to a real request");
  return result as Exclude<T, Preview>;
}

/** A Preview names the mode it was computed in (executions carry a `preview` flag but no `mode`). */
export function isPreview(result: unknown): result is Preview {
  return typeof result === "object" && result !== null && "preview" in result && "mode" in result;
}

/** A multipart body (openapi-typescript types `format: binary` fields as strings; the browser sends a File). */
export function formData(body: Record<string, string | Blob>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(body)) form.append(key, value);
  return form;
}

/** A YAML document sent as-is (`text/yaml` request bodies such as playbooks). */
export const yamlBody = { bodySerializer: (text: unknown) => text, headers: { "Content-Type": "text/yaml" } } as const;

function redirectToLogin(): void {
  if (window.location.pathname === "/login") return;
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  window.location.assign(`/login?next=${next}`);
}

const sameOrigin: Middleware = {
  onRequest({ request }) {
    if (!request.headers.has("Content-Type")) request.headers.set("Accept", "application/json");
    if (request.method !== "GET") request.headers.set(CSRF_HEADER, "1");
    return request;
  },
};

/** Every non-2xx answer becomes a thrown ApiError, after the side effects the whole console shares. */
function failures(handle401: boolean): Middleware {
  return {
    async onResponse({ response }) {
      if (response.ok) return undefined;
      const payload: unknown = await response.clone().json().catch(() => null);
      const detail = (payload as { detail?: unknown } | null)?.detail ?? null;
      const probe = new ApiError(response.status, detail);
      const retryAfter = probe.rateLimited ? parseRetryAfter(response.headers.get("Retry-After")) : undefined;
      const error = new ApiError(response.status, detail, retryAfter);
      if (retryAfter !== undefined) reportRateLimited(retryAfter, error.busy ? "Server busy" : "Rate limited");
      if (response.status === 401 && handle401) redirectToLogin();
      if (response.status === 409 && error.code === "mode_blocks_mutation") {
        onModeBlocked(`Blocked by the current mode: ${error.message}`);
      }
      throw error;
    },
  };
}

type Method = "get" | "put" | "post" | "patch" | "delete";
type PathsWith<M extends Method> = {
  [P in keyof ApiPaths]: ApiPaths[P] extends Record<M, object> ? P : never;
}[keyof ApiPaths];
/** Init is optional exactly when the operation has no required parameter or body. */
type InitArg<Init> = [Init] extends [undefined] ? [init?: Init] : undefined extends Init ? [init?: Init] : [init: Init];
type Success<Op, Init> = Exclude<
  Extract<FetchResponse<Op & Record<string | number, unknown>, Init, `${string}/${string}`>, { error?: never }>["data"],
  undefined
>;
/** The success body of an operation (void for 204 No Content). */
type Data<Op, Init> = [Success<Op, Init>] extends [never] ? void : Success<Op, Init>;

type DataMethod<M extends Method> = <P extends PathsWith<M>, Init extends MaybeOptionalInit<ApiPaths[P], M>>(
  url: P,
  ...init: InitArg<Init>
) => Promise<Data<ApiPaths[P][M & keyof ApiPaths[P]], Init>>;

/** One method per HTTP verb; each resolves to the success body and throws ApiError otherwise. */
export interface Api {
  GET: DataMethod<"get">;
  POST: DataMethod<"post">;
  PUT: DataMethod<"put">;
  PATCH: DataMethod<"patch">;
  DELETE: DataMethod<"delete">;
}

function bindApi(handle401: boolean): Api {
  const client = createClient<ApiPaths>({ baseUrl: API_BASE, credentials: "include", querySerializer: serializeQuery });
  client.use(sameOrigin, failures(handle401));
  // The typed signatures above are the contract; the call itself only forwards method, path and init.
  const raw = client as unknown as { request(method: Method, url: string, init?: object): Promise<{ data?: unknown }> };
  const verb = (method: Method) => (url: string, init?: object) => raw.request(method, url, init).then((r) => r.data);
  return {
    GET: verb("get") as DataMethod<"get">,
    POST: verb("post") as DataMethod<"post">,
    PUT: verb("put") as DataMethod<"put">,
    PATCH: verb("patch") as DataMethod<"patch">,
    DELETE: verb("delete") as DataMethod<"delete">,
  };
}

/** The client every page uses: a 401 sends the operator to the login page. */
export const api = bindApi(true);
/** The boot sequence and the login form handle their own 401 (they must not bounce while deciding). */
export const bootApi = bindApi(false);

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
