/**
 * Rate-limit state shared by the API client and the UI: a 429 is "rate limited, retrying in N s" and
 * a 503 `server_busy` is "server busy, retrying in N s", never "backend not connected". The client reports each 429 with its Retry-After; queries retry
 * after that delay (main.tsx) and the banner counts down.
 */
import { useSyncExternalStore } from "react";

let until = 0;
let reportedAt = 0;
let reason = "Rate limited";
const listeners = new Set<() => void>();

/** A 429 says "Rate limited"; a 503 `server_busy` (the server shedding load) says "Server busy". */
export function reportRateLimited(retryAfterSeconds: number, why = "Rate limited"): void {
  reportedAt = Date.now();
  until = Math.max(until, reportedAt + retryAfterSeconds * 1000);
  reason = why;
  listeners.forEach((notify) => notify());
}

export function retryReason(): string {
  return reason;
}

/** When the last 429/503 was reported: a countdown's clock may have ticked up to a second before it. */
export function lastReportedAt(): number {
  return reportedAt;
}

/** The Retry-After of a 429 (seconds), defaulting to 5 s, capped at 120 s. */
export function parseRetryAfter(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 120) : 5;
}

export function useRateLimitedUntil(): number {
  return useSyncExternalStore(
    (notify) => {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    () => until,
  );
}
