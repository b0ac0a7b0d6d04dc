/** providers → users/me → system/mode; protected routes render only once all three settle. */
import { useQuery } from "@tanstack/react-query";
import { useMemo, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { ApiError, bootApi, isRateLimited, retryDelay, retryPolicy } from "../api/client";
import { POLL_MS, RuntimeContext, SessionContext, hasPermission } from "./session";

export function useProviders() {
  return useQuery({
    queryKey: ["auth", "providers"],
    queryFn: () => bootApi.GET("/auth/providers"),
    staleTime: 5 * 60_000,
  });
}

function BootScreen({ text }: { text: string }) {
  return (
    <div className="flex h-screen items-center justify-center text-slate-400" data-testid="boot-loading">
      {text}
    </div>
  );
}

function Offline({ onRetry }: { onRetry: () => void }) {
  return (
    <div className="flex h-screen flex-col items-center justify-center gap-4" data-testid="backend-offline">
      <h1 className="text-2xl font-semibold text-slate-100">Backend not connected</h1>
      <p className="max-w-md text-center text-slate-400">
        The console could not reach the AuroraSOC API. Check that <code>aurorasoc serve</code> is running.
      </p>
      <button className="btn-primary" onClick={onRetry} data-testid="retry-button">
        Retry
      </button>
    </div>
  );
}

export function AuthGuard({ children }: { children: ReactNode }) {
  const location = useLocation();
  const providers = useProviders();
  const me = useQuery({
    queryKey: ["users", "me"],
    queryFn: () => bootApi.GET("/users/me"),
    enabled: providers.isSuccess || providers.isError,
    retry: retryPolicy,
    retryDelay,
  });
  const mode = useQuery({
    queryKey: ["system", "mode"],
    queryFn: () => bootApi.GET("/system/mode"),
    enabled: me.isSuccess,
    refetchInterval: POLL_MS,
    retry: retryPolicy,
    retryDelay,
  });
  const session = useMemo(() => {
    if (!me.data) return null;
    const permissions = me.data.permissions;
    return { me: me.data, can: (p: string) => hasPermission(permissions, p) };
  }, [me.data]);

  const unauthorized = [me.error, mode.error].some((e) => e instanceof ApiError && e.status === 401);
  if (unauthorized) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  if ([me.error, mode.error].some(isRateLimited) && !(me.data && mode.data)) {
    return <BootScreen text="Rate limited, retrying shortly…" />;
  }
  // A failed background refresh keeps the console (and every form's input) on screen: each page
  // shows its own data as unavailable; only a boot that never reached the API is "offline".
  if ((me.isError && !me.data) || (mode.isError && !mode.data)) {
    return (
      <Offline
        onRetry={() => {
          void me.refetch();
          void mode.refetch();
        }}
      />
    );
  }
  if (!session || !mode.data) return <BootScreen text="Connecting to AuroraSOC…" />;
  return (
    <SessionContext.Provider value={session}>
      <RuntimeContext.Provider value={mode.data}>{children}</RuntimeContext.Provider>
    </SessionContext.Provider>
  );
}
