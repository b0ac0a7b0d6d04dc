/**
 * A real OpenID provider for the live lane: `oidc-provider-mock` (the project's dev extra) on a free
 * port, with one predefined user whose `groups` claim the server maps to the analyst role.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const SSO_USER = { sub: "sso-analyst", username: "sso.analyst", role: "analyst" };

async function waitDiscovery(issuer: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`oidc-provider-mock exited with ${proc.exitCode}`);
    const ok = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("oidc-provider-mock did not answer discovery within 30 s");
}

/** Starts the provider; returns the AURORA_OIDC_* environment for `aurorasoc serve` and a stop(). */
export async function startOidcProvider(
  root: string,
  port: number,
): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const claims = { sub: SSO_USER.sub, preferred_username: SSO_USER.username, name: "SSO Analyst", groups: ["soc-tier2"] };
  const bin = process.env.OIDC_PROVIDER_MOCK_BIN ?? join(root, ".venv/bin/oidc-provider-mock");
  const proc = spawn(bin, ["--port", String(port), "--user-claims", JSON.stringify(claims)], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const issuer = `http://127.0.0.1:${port}`;
  await waitDiscovery(issuer, proc);
  return {
    env: {
      AURORA_OIDC_ISSUER: issuer,
      AURORA_OIDC_CLIENT_ID: "aurorasoc-live",
      AURORA_OIDC_CLIENT_SECRET: "live-lane-client-secret",
      AURORA_OIDC_ROLE_MAP: JSON.stringify({ "soc-tier2": "analyst" }),
      AURORA_OIDC_DISPLAY_NAME: "Local IdP",
    },
    stop: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
    },
  };
}
