/** Public sign-in: providers from /auth/providers, local form (POST /auth/token), SSO buttons. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, bootApi } from "../api/client";
import { useProviders } from "../app/AuthGuard";

/** Codes /auth/oidc/callback sends back with ?sso_error= (the reason itself is in the audit log). */
const SSO_ERRORS: Record<string, string> = {
  no_role: "Your single sign-on account is not mapped to an AuroraSOC role. Ask an administrator.",
  local_account: "This username belongs to a local account: sign in with its password.",
  disabled: "This account is disabled.",
  provider_unreachable: "The identity provider could not be reached. Try again shortly.",
  state_replayed: "That sign-in response was already used. Start again.",
};

function ssoMessage(code: string | null): string | null {
  if (!code) return null;
  return SSO_ERRORS[code] ?? "Single sign-on was refused. Start again or ask an administrator.";
}

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export function LoginPage() {
  const providers = useProviders();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ssoError = ssoMessage(params.get("sso_error"));
  const next = safeNext(params.get("next"));
  const [busy, setBusy] = useState(false);
  const list = providers.data?.providers ?? [];
  const hasLocal = list.length === 0 || list.some((p) => p.type === "local");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await bootApi.POST("/auth/token", { body: { username, password } });
      client.clear();
      navigate(next, { replace: true });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "Invalid username or password" : String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-screen items-center justify-center">
      <div className="card w-96">
        <h1 className="mb-1 text-2xl font-semibold text-sky-300">AuroraSOC</h1>
        <p className="mb-5 text-sm text-slate-400">Sign in to the operator console</p>
        {hasLocal && (
          <form onSubmit={submit} className="flex flex-col gap-3" aria-label="Sign in">
            <label className="flex flex-col gap-1 text-sm">
              Username
              <input className="input" name="username" autoComplete="username" value={username}
                onChange={(e) => setUsername(e.target.value)} required autoFocus />
            </label>
            <label className="flex flex-col gap-1 text-sm">
              Password
              <input className="input" name="password" type="password" autoComplete="current-password"
                value={password} onChange={(e) => setPassword(e.target.value)} required />
            </label>
            {error && <p role="alert" data-testid="login-error" className="text-sm text-rose-300">{error}</p>}
            <button className="btn-primary justify-center" type="submit" disabled={busy}>
              Sign in
            </button>
          </form>
        )}
        {ssoError && <p role="alert" data-testid="sso-error" className="mb-3 text-sm text-rose-300">{ssoError}</p>}
        {list
          .filter((p) => p.type === "oidc")
          .map((p) => (
            <a key={p.id} href={p.login_url ? `${p.login_url}?next=${encodeURIComponent(next)}` : "#"} className="btn mt-3 w-full justify-center" data-testid="sso-button">
              Sign in with {p.name}
            </a>
          ))}
      </div>
    </main>
  );
}
