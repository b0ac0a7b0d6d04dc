/** "Rate limited (or Server busy), retrying in N s" while the server's Retry-After runs; hidden otherwise. */
import { lastReportedAt, retryReason, useRateLimitedUntil } from "../app/rateLimit";
import { useNow } from "../hooks/useNow";

export function RateLimitBanner() {
  const until = useRateLimitedUntil();
  // The clock ticks once a second: right after a report it can be up to a second old, which made a
  // Retry-After of 1 s read "retrying in 2 s".
  const now = Math.max(useNow(1000), lastReportedAt());
  const seconds = Math.ceil((until - now) / 1000);
  if (seconds <= 0) return null;
  return (
    <div role="status" data-testid="rate-limited"
      className="fixed bottom-4 left-1/2 z-50 -translate-x-1/2 rounded bg-amber-900 px-4 py-2 text-sm text-amber-100 shadow">
      {retryReason()}, retrying in {seconds} s
    </div>
  );
}
