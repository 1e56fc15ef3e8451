// The whole local stack in one call: database (embedded PGlite over the wire protocol, or the
// configured Postgres), the Supabase stand-in and migrations, the Dynamics sandbox, the functions
// gateway under Deno, and the scheduler. `npm start`, the end-to-end tests and the benchmarks all use it.
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { ALL_NEEDS, type Config, configured, type Env, loadConfig } from "../shared/config.ts";
import { connectionFor } from "../shared/db.ts";
import { createLocalAuth, type TokenOptions } from "./auth.ts";
import { startPgliteServer } from "./db/pglite-server.ts";
import { prepareDatabase } from "./db/prepare.ts";
import { DEFAULT_TENANT, tokenPathFor, WEBHOOK_PATH } from "./dynamics-sandbox/app.ts";
import { startSandbox } from "./dynamics-sandbox/server.ts";
import { type LocalSettings, localSettings, withLocalProfile } from "./env.ts";
import { startGatewayProcess } from "./gateway-process.ts";
import { startScheduler } from "./scheduler.ts";

export interface StackOptions {
  /**
   * The environment the stack is configured from, over the local profile (local/env.ts); the
   * gateway inherits it.
   */
  env: Env;
  /** Wipe the embedded database's data folder first. */
  reset?: boolean;
  /** Keep the embedded database in memory instead of the data folder (tests). */
  inMemory?: boolean;
  /** Run the Dynamics sandbox (default: unless DYNAMICS_WEBHOOK_URL is configured). */
  sandbox?: boolean;
  /** Nudge, sweep and auto-pause timers (default true). */
  scheduler?: boolean;
  schedulerIntervals?: {
    sweepEveryMs?: number;
    expireEveryMs?: number;
    pollEveryMs?: number;
    reconcileEveryMs?: number;
    pruneEveryMs?: number;
  };
  /** Receives the gateway's and the stack's log lines. */
  log?: (line: string) => void;
}

export type SandboxHandle = Awaited<ReturnType<typeof startSandbox>>;

export interface Stack {
  config: Config;
  settings: LocalSettings;
  engine: "pglite" | "postgres";
  databaseUrl: string;
  gatewayUrl: string;
  functionsUrl: string;
  sandbox: SandboxHandle | null;
  /** A service_role JWT signed with the local key (the legacy service-role key's shape). */
  serviceRoleKey: string;
  /** The secret API key (`sb_secret_…`) service callers may send in `apikey` instead. */
  secretKey: string;
  anonKey: string;
  /** A token from the local key, as Supabase Auth would issue it. */
  mintJwt(opts: TokenOptions): Promise<string>;
  /** A client for the stack's database (tests, seed). */
  sql: postgres.Sql;
  /** The environment the gateway runs with. */
  gatewayEnv: Env;
  /** The Deno process running the functions (for memory figures and crash tests). */
  gatewayPid: number;
  stop(): Promise<void>;
}

/** A free loopback port (the children need to know each other's ports before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** PGlite behaves differently from a Postgres server (one shared session, no NOTIFY to clients). */
export async function detectEngine(sql: postgres.Sql): Promise<"pglite" | "postgres"> {
  const [row] = await sql<{ version: string }[]>`select version()`;
  return row.version.includes("PGlite") ? "pglite" : "postgres";
}

const portOrFree = (port: number) => (port === 0 ? freePort() : Promise.resolve(port));

export async function startStack(opts: StackOptions): Promise<Stack> {
  const env = withLocalProfile(opts.env);
  const settings = localSettings(env);
  const log = opts.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  try {
    let databaseUrl = loadConfig(env).database?.url;
    if (!opts.inMemory) await mkdir(settings.dataDir, { recursive: true });
    if (!databaseUrl) {
      const dataDir = join(settings.dataDir, "pglite");
      if (opts.reset) await rm(dataDir, { recursive: true, force: true });
      if (!opts.inMemory) await mkdir(dataDir, { recursive: true });
      const pg = await startPgliteServer({
        dataDir: opts.inMemory ? undefined : dataDir,
        port: settings.ports.database,
        maxConnections: 16,
      });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const direct = connectionFor(databaseUrl);
    const sql = postgres(direct.url, { max: 1, prepare: direct.prepare, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 5 }));
    await prepareDatabase(sql, { log });
    const engine = await detectEngine(sql);

    const gatewayPort = await portOrFree(settings.ports.gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const auth = await createLocalAuth(
      `${gatewayUrl}/auth/v1`,
      opts.inMemory ? undefined : settings.dataDir,
    );
    const gatewayEnv: Record<string, string | undefined> = {
      ...env,
      DATABASE_URL: databaseUrl,
      SUPABASE_DB_URL: undefined,
      GATEWAY_PORT: String(gatewayPort),
      SUPABASE_URL: gatewayUrl,
      LOCAL_AUTH_JWKS: JSON.stringify(auth.jwks),
    };
    // The sandbox's URLs follow from its port, so the whole configuration is known (and validated)
    // before anything that depends on it starts.
    const withSandbox = opts.sandbox ?? !env.DYNAMICS_WEBHOOK_URL;
    const sandboxPort = withSandbox ? await portOrFree(settings.ports.sandbox) : 0;
    if (withSandbox) {
      const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
      gatewayEnv.DYNAMICS_WEBHOOK_URL = `${sandboxUrl}${WEBHOOK_PATH}`;
      gatewayEnv.DYNAMICS_TOKEN_URL = `${sandboxUrl}${tokenPathFor(DEFAULT_TENANT)}`;
    }
    const config = loadConfig(gatewayEnv, ALL_NEEDS);
    const outbound = configured(config.outbound, "outbound");

    let sandbox: SandboxHandle | null = null;
    if (withSandbox) {
      const dynamicsAuth = outbound.auth;
      sandbox = await startSandbox({
        port: sandboxPort,
        host: "127.0.0.1",
        clientId: dynamicsAuth.mode === "oauth2" ? dynamicsAuth.clientId : undefined,
        clientSecret: dynamicsAuth.mode === "oauth2" ? dynamicsAuth.clientSecret : undefined,
        apiKey: dynamicsAuth.mode === "apikey" ? dynamicsAuth.key : undefined,
        apiKeyHeader: dynamicsAuth.mode === "apikey" ? dynamicsAuth.header : undefined,
        signingSecrets: [outbound.signingSecret],
        callbackUrl: `${gatewayUrl}/functions/v1/dynamics-webhook`,
        callbackSecret: configured(config.inbound.secrets, "inbound")[0],
      });
      const started = sandbox;
      cleanups.push(() => started.stop());
    }

    const gateway = await startGatewayProcess({ env: gatewayEnv, onLine: log });
    cleanups.push(() => gateway.stop());

    const serviceRoleKey = await auth.mint({
      role: "service_role",
      expiresInSeconds: 10 * 365 * 86400,
    });
    const anonKey = await auth.mint({ role: "anon", expiresInSeconds: 10 * 365 * 86400 });
    const secretKey = configured(config.callers, "callers").serviceKeys[0];
    const functionsUrl = `${gatewayUrl}/functions/v1`;

    const callService = async (name: string) => {
      const res = await fetch(`${functionsUrl}/${name}`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceRoleKey}`, "content-type": "application/json" },
        body: "{}",
      });
      return res.ok ? await res.json() as { status?: string } : (await res.body?.cancel(), null);
    };
    // pg_net's continuation call, done here: call again while the run says it is unfinished.
    const reconcile = async () => {
      for (let call = 0; call < 1_000; call++) {
        if ((await callService("sync-reconcile"))?.status !== "running") return;
      }
    };
    if (opts.scheduler ?? true) {
      const scheduler = await startScheduler({
        sql,
        engine,
        retention: config.sync.retention,
        ...opts.schedulerIntervals,
        sweep: async () => void await callService("sync-retry"),
        reconcile,
        onError: (what, err) =>
          log(
            JSON.stringify({ level: "warn", msg: `scheduler ${what} failed`, error: String(err) }),
          ),
      });
      // The scheduler stops before the gateway and the database it talks to.
      cleanups.push(() => scheduler.stop());
    }

    return {
      config,
      settings,
      engine,
      databaseUrl,
      gatewayUrl,
      functionsUrl,
      sandbox,
      serviceRoleKey,
      secretKey,
      anonKey,
      mintJwt: auth.mint,
      sql,
      gatewayEnv,
      gatewayPid: gateway.child.pid!,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
