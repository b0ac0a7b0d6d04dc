/** Server push (/ws/alerts, /ws/approvals, /ws/agent-thoughts …): every (matching) message invalidates the queries it affects. Failures are silent (backoff). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { API_BASE } from "../api/client";

const MAX_BACKOFF_MS = 30_000;

export const ALERT_FEED = { path: "/ws/alerts", keys: ["alerts", "dashboard", "cases"] };
export const APPROVAL_FEED = { path: "/ws/approvals", keys: ["approvals", "cases", "executions", "dashboard"] };

export interface LiveFeed {
  path: string;
  keys: string[];
  /** When given, only messages it accepts invalidate (e.g. the steps of one investigation). */
  match?: (data: Record<string, unknown>) => boolean;
}

export function useLiveFeed(feed: LiveFeed, enabled: boolean): void {
  const client = useQueryClient();
  const { path, keys, match } = feed;
  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let delay = 1000;
    let stopped = false;
    const connect = () => {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${window.location.host}${API_BASE}${path}`);
      socket.onopen = () => {
        delay = 1000;
      };
      socket.onmessage = (event) => {
        const data = JSON.parse(String(event.data)) as Record<string, unknown>;
        if (data.type === "pong" || (match && !match(data))) return;
        keys.forEach((key) => void client.invalidateQueries({ queryKey: [key] }));
      };
      socket.onclose = () => {
        if (stopped) return;
        timer = window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      socket?.close();
    };
  }, [enabled, client, path, keys, match]);
}
