/**
 * Server push (/ws/alerts, /ws/approvals, /ws/cps, /ws/agent-thoughts …): matching messages
 * invalidate the queries they affect. Invalidations are coalesced: a burst of messages (50 devices
 * reporting telemetry) refreshes each key at most once per `coalesceMs`, and an in-flight request is
 * never cancelled and re-sent. While a feed is open, pages can stop polling (`useFeedOpen`).
 * Failures are silent (backoff).
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { API_BASE } from "../api/client";

const MAX_BACKOFF_MS = 30_000;
const DEFAULT_COALESCE_MS = 1_000;

export const ALERT_FEED = { path: "/ws/alerts", keys: ["alerts", "dashboard", "cases"] };
export const APPROVAL_FEED = { path: "/ws/approvals", keys: ["approvals", "cases", "executions", "dashboard"] };

export interface LiveFeed {
  path: string;
  keys: string[];
  /** When given, only messages it accepts invalidate (e.g. the steps of one investigation). */
  match?: (data: Record<string, unknown>) => boolean;
  /** At most one refresh per key per this many ms (default 1 s). */
  coalesceMs?: number;
}

const openFeeds = new Map<string, number>();
const feedListeners = new Set<() => void>();

function setOpen(path: string, delta: number): void {
  openFeeds.set(path, Math.max(0, (openFeeds.get(path) ?? 0) + delta));
  feedListeners.forEach((notify) => notify());
}

/** True while at least one socket of `path` is open: its pages get live data without polling. */
export function useFeedOpen(path: string): boolean {
  return useSyncExternalStore(
    (notify) => {
      feedListeners.add(notify);
      return () => feedListeners.delete(notify);
    },
    () => (openFeeds.get(path) ?? 0) > 0,
  );
}

export function useLiveFeed(feed: LiveFeed, enabled: boolean): void {
  const client = useQueryClient();
  const { path, keys, match, coalesceMs = DEFAULT_COALESCE_MS } = feed;
  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let flushTimer: number | undefined;
    let lastFlush = 0;
    let delay = 1000;
    let stopped = false;
    let open = false;
    const markOpen = (value: boolean) => {
      if (value !== open) setOpen(path, value ? 1 : -1);
      open = value;
    };
    const flush = () => {
      flushTimer = undefined;
      lastFlush = Date.now();
      keys.forEach((key) => void client.invalidateQueries({ queryKey: [key] }, { cancelRefetch: false }));
    };
    const schedule = () => {
      if (flushTimer !== undefined) return; // already due: this message rides along
      flushTimer = window.setTimeout(flush, Math.max(0, lastFlush + coalesceMs - Date.now()));
    };
    const connect = () => {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${window.location.host}${API_BASE}${path}`);
      socket.onopen = () => {
        delay = 1000;
        markOpen(true);
      };
      socket.onmessage = (event) => {
        const data = JSON.parse(String(event.data)) as Record<string, unknown>;
        if (data.type === "pong" || (match && !match(data))) return;
        schedule();
      };
      socket.onclose = () => {
        markOpen(false);
        if (stopped) return;
        timer = window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.clearTimeout(flushTimer);
      markOpen(false);
      socket?.close();
    };
  }, [enabled, client, path, keys, match, coalesceMs]);
}
