/** "Last refresh" shown top right: the time any query last succeeded. */
import { useSyncExternalStore } from "react";

let last: number | null = null;
const listeners = new Set<() => void>();

export function markRefreshed(): void {
  last = Date.now();
  listeners.forEach((notify) => notify());
}

export function useLastRefresh(): number | null {
  return useSyncExternalStore(
    (notify) => {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    () => last,
  );
}
