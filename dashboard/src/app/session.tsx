/** Boot state: who is signed in (users/me) and the runtime truth (system/mode), shared by every page. */
import { createContext, useContext } from "react";
import type { Me, SystemMode } from "../api/types";

export interface Session {
  me: Me;
  can: (permission: string) => boolean;
}

export const SessionContext = createContext<Session | null>(null);
export const RuntimeContext = createContext<SystemMode | null>(null);

export function hasPermission(permissions: readonly string[], permission: string): boolean {
  return permissions.includes("*") || permissions.includes(permission);
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside the auth guard");
  return session;
}

export function useRuntime(): SystemMode {
  const mode = useContext(RuntimeContext);
  if (!mode) throw new Error("useRuntime outside the auth guard");
  return mode;
}

export const POLL_MS = 15_000;
