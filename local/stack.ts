// The whole local stack in one call: database (embedded PGlite over the wire protocol, or the
// configured Postgres), the Supabase stand-in and migrations, the Dynamics sandbox, the functions
// gateway under Deno, and the scheduler. `npm start`, the end-to-end tests and the benchmarks all use it.
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { type Config, type Env, loadConfig } from "../shared/config.ts";
import { mintJwt } from "../shared/jwt.ts";
import { startPgliteServer } from "./db/pglite-server.ts";
import { prepareDatabase } from "./db/prepare.ts";
import { startSandbox } from "./dynamics-sandbox/server.ts";
import { startGatewayProcess } from "./gateway-process.ts";
import { startScheduler } from "./scheduler.ts";

export interface StackOptions {
  /** The environment the stack is configured from (and which the gateway inherits). */
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
    pruneEveryMs?: number;
  };
  /** Receives the gateway's and the stack's log lines. */
  log?: (line: string) => void;
}

export type SandboxHandle = Awaited<ReturnType<typeof startSandbox>>;

export interface Stack {
  config: Config;
  engine: "pglite" | "postgres";
  databaseUrl: string;
  gatewayUrl: string;
  functionsUrl: string;
  sandbox: SandboxHandle | null;
  serviceRoleKey: string;
  anonKey: string;
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
  const config = loadConfig(opts.env);
  const log = opts.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  try {
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const dataDir = join(config.database.dataDir, "pglite");
      if (opts.reset) await rm(dataDir, { recursive: true, force: true });
      if (!opts.inMemory) await mkdir(dataDir, { recursive: true });
      const pg = await startPgliteServer({
        dataDir: opts.inMemory ? undefined : dataDir,
        port: config.ports.database,
        maxConnections: 16,
      });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 5 }));
    await prepareDatabase(sql, { log });
    const engine = await detectEngine(sql);

    const gatewayPort = await portOrFree(config.ports.gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const gatewayEnv: Record<string, string | undefined> = {
      ...opts.env,
      DATABASE_URL: databaseUrl,
      SUPABASE_DB_URL: undefined,
      GATEWAY_PORT: String(gatewayPort),
      SUPABASE_URL: gatewayUrl,
    };

    let sandbox: SandboxHandle | null = null;
    if (opts.sandbox ?? !opts.env.DYNAMICS_WEBHOOK_URL) {
      const auth = config.dynamics.auth;
      sandbox = await startSandbox({
        port: config.ports.sandbox,
        host: "127.0.0.1",
        clientId: auth.mode === "oauth2" ? auth.clientId : undefined,
        clientSecret: auth.mode === "oauth2" ? auth.clientSecret : undefined,
        apiKey: auth.mode === "apikey" ? auth.key : undefined,
        apiKeyHeader: auth.mode === "apikey" ? auth.header : undefined,
        signingSecrets: [config.dynamics.signingSecret],
        callbackUrl: `${gatewayUrl}/functions/v1/dynamics-webhook`,
        callbackSecret: config.dynamics.inboundSecrets[0],
      });
      const started = sandbox;
      cleanups.push(() => started.stop());
      gatewayEnv.DYNAMICS_WEBHOOK_URL = sandbox.webhookUrl;
      gatewayEnv.DYNAMICS_TOKEN_URL = sandbox.tokenUrl;
    }

    const gateway = await startGatewayProcess({ env: gatewayEnv, onLine: log });
    cleanups.push(() => gateway.stop());

    const secret = config.supabase.jwtSecret;
    const serviceRoleKey = await mintJwt(secret, {
      role: "service_role",
      expiresInSeconds: 10 * 365 * 86400,
    });
    const anonKey = await mintJwt(secret, { role: "anon", expiresInSeconds: 10 * 365 * 86400 });
    const functionsUrl = `${gatewayUrl}/functions/v1`;

    if (opts.scheduler ?? true) {
      const scheduler = await startScheduler({
        sql,
        engine,
        retention: config.sync.retention,
        ...opts.schedulerIntervals,
        sweep: async () => {
          const res = await fetch(`${functionsUrl}/sync-retry`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${serviceRoleKey}`,
              "content-type": "application/json",
            },
            body: "{}",
          });
          await res.body?.cancel();
        },
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
      engine,
      databaseUrl,
      gatewayUrl,
      functionsUrl,
      sandbox,
      serviceRoleKey,
      anonKey,
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
