/** /ws/alerts: every message invalidates the alert-derived queries. Failures are silent (backoff). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { API_BASE } from "../api/client";

const MAX_BACKOFF_MS = 30_000;

export function useAlertFeed(enabled: boolean): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let delay = 1000;
    let stopped = false;
    const connect = () => {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${window.location.host}${API_BASE}/ws/alerts`);
      socket.onopen = () => {
        delay = 1000;
      };
      socket.onmessage = (event) => {
        const data = JSON.parse(String(event.data)) as { type?: string };
        if (data.type === "pong") return;
        void client.invalidateQueries({ queryKey: ["alerts"] });
        void client.invalidateQueries({ queryKey: ["dashboard"] });
        void client.invalidateQueries({ queryKey: ["cases"] });
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
  }, [enabled, client]);
}
