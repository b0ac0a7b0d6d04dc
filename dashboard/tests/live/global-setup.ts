/**
 * Live lane: ingest a real EVTX sample into a fresh data dir, import the showcase playbooks, then
 * start a real `aurorasoc serve`
 * on a free port serving the built console (aurorasoc/web, from `make dashboard`). The admin
 * password is the one serve bootstraps and stores in <data dir>/secrets/initial_admin_password.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startOidcProvider } from "./support/oidc-provider";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const AURORASOC = process.env.AURORASOC_BIN ?? join(ROOT, ".venv/bin/aurorasoc");
/** Our own Suricata EVE sample: one C2 alert, which becomes a correlated network attack. */
export const EVE = join(ROOT, "tests/data/eve.json");
export const EVTX = join(
  process.env.AURORA_SHARED_DATA ?? resolve(ROOT, "../shared/data"),
  "evtx-attack-samples/Persistence/Network_Service_Guest_added_to_admins_4732.evtx",
);

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export async function waitHealthy(base: string, proc: ChildProcess): Promise<void> {
  // Generous, as in tests/cli/test_serve.py: start-up is ~4 CPU-s (imports, migrations, rules), and in
  // `make test` this lane shares the machine with the integration and PostgreSQL lanes.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`aurorasoc serve exited with ${proc.exitCode}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("aurorasoc serve did not become healthy within 90 s");
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "aurora-e2e-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AURORA_DATA_DIR: dataDir,
    AURORA_MODE: "real",
    AURORA_LOG_LEVEL: "WARNING",
    AURORA_SCHEDULER_ENABLED: "false",
    AURORA_RATE_LIMIT_REQUESTS: "100000",
    AURORA_RATE_LIMIT_WRITES: "100000",
    AURORA_RATE_LIMIT_AUTH: "100000",
    // Every spec signs in as admin; two workers sign in more than 10 times a minute (the per-account
    // login limit, tested in tests/access and tests/api).
    AURORA_LOGIN_RATE_LIMIT: "100000",
    // The fast deterministic embedder, as in the Python suite: with the [ml] extra (CI) "auto" loads
    // MiniLM (~30 CPU-s) on the first memory write, in the middle of a timed spec. MiniLM itself is
    // tested by tests/memory/test_memory_minilm.py.
    AURORA_EMBEDDER: "hashing",
    // Its own Redis keys and MQTT topics: the Python service lanes run beside this one.
    AURORA_NAMESPACE: "livesetup",
  };
  delete env.AURORA_ADMIN_PASSWORD; // exercise the real first-start bootstrap
  // A firmware signing key made for this run: the server gets the public half, the spec signs with
  // the private half (the same Ed25519 check a vendor-signed bundle goes through).
  const keys = generateKeyPairSync("ed25519");
  writeFileSync(join(dataDir, "firmware-signing.pub"), keys.publicKey.export({ type: "spki", format: "pem" }));
  env.FIRMWARE_SIGNING_PUBKEY_PATH = join(dataDir, "firmware-signing.pub");
  process.env.LIVE_FIRMWARE_KEY = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const ingest = spawnSync(AURORASOC, ["ingest", EVTX, EVE], { env, encoding: "utf8", timeout: 60_000 });
  if (ingest.status !== 0) throw new Error(`aurorasoc ingest failed:\n${ingest.stdout}\n${ingest.stderr}`);
  // The bundled playbooks (imported disabled; a manual run still works): malware-response gates
  // isolate_host behind a human approval, which the live spec decides in the console.
  const playbooks = spawnSync(AURORASOC, ["playbooks", "import-showcase"], { env, encoding: "utf8", timeout: 60_000 });
  if (playbooks.status !== 0) throw new Error(`aurorasoc playbooks import-showcase failed:\n${playbooks.stdout}\n${playbooks.stderr}`);
  const oidc = await startOidcProvider(ROOT, await freePort()); // SSO sign-in (tests/live/sso.spec.ts)
  Object.assign(env, oidc.env);
  process.env.LIVE_OIDC_ISSUER = oidc.env.AURORA_OIDC_ISSUER;
  const port = await freePort();
  const proc = spawn(AURORASOC, ["serve", "--port", String(port)], { env, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, proc).catch(async (error: unknown) => {
    proc.kill("SIGTERM"); // no teardown runs when setup fails: leave no server or provider behind
    await oidc.stop();
    throw error;
  });
  process.env.LIVE_BASE_URL = base;
  process.env.LIVE_ADMIN_PASSWORD = readFileSync(join(dataDir, "secrets/initial_admin_password"), "utf8").trim();
  return async () => {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    await oidc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
