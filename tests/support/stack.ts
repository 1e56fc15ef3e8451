// The local stack for one end-to-end test file: a fresh test database, the Dynamics sandbox on a free
// port, and the functions under real Deno behind the gateway, called the way the Flutter app calls
// them (supabase-js `functions.invoke`) or with plain fetch where raw bytes matter.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import ws from "ws";
import {
  type SandboxControl,
  sandboxControl,
} from "../../local/dynamics-sandbox/control-client.ts";
import { type Stack, startStack } from "../../local/stack.ts";
import type { TokenOptions } from "../../local/auth.ts";
import { mintJwt } from "./tokens.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";

/** The legacy HS256 secret the test stacks also accept (JWT_SECRET), so that path stays covered. */
export const E2E_JWT_SECRET = "e2e-jwt-secret-that-is-long-enough-for-hs256";

/** Fast retry settings, so failure paths finish in well under a second of real time. */
export const FAST_RETRIES = {
  DYNAMICS_MAX_RETRIES: "3",
  DYNAMICS_BACKOFF_BASE_MS: "10",
  DYNAMICS_BACKOFF_CAP_MS: "50",
  DYNAMICS_ATTEMPT_TIMEOUT_MS: "2000",
  DYNAMICS_CIRCUIT_THRESHOLD: "0",
};

export interface TestStack {
  db: TestDatabase;
  stack: Stack;
  sandbox: SandboxControl;
  /** Gateway lines (the functions' JSON logs), for assertions on logging. */
  lines: string[];
  /** A supabase-js client acting with the given JWT (service role by default). */
  client(jwt?: string): SupabaseClient;
  /** A user token from the stack's ES256 key, verified by the functions via the gateway's JWKS. */
  userJwt(userId: string): Promise<string>;
  /** A token signed HS256 with the stack's legacy JWT secret (issuer as Supabase sets it). */
  legacyJwt(opts: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  env?: Record<string, string>;
  /** Run the nudge/sweep timers (default off: tests drive sync-retry themselves). */
  scheduler?: boolean;
  /** Reuse a database (a second stack over the same data); the caller closes it. */
  db?: TestDatabase;
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const ownDb = !opts.db;
  const db = opts.db ?? await createTestDatabase();
  const lines: string[] = [];
  let stack: Stack;
  try {
    stack = await startStack({
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: db.url,
        DB_POOL_MAX: "2",
        GATEWAY_PORT: "0",
        SANDBOX_PORT: "0",
        JWT_SECRET: E2E_JWT_SECRET,
        LOG_LEVEL: "info",
        SYNC_RESCHEDULE_BASE_SECONDS: "1",
        ...FAST_RETRIES,
        ...opts.env,
      },
      sandbox: true,
      scheduler: opts.scheduler ?? false,
      schedulerIntervals: { sweepEveryMs: 500, expireEveryMs: 60_000, pollEveryMs: 20 },
      log: (line) => lines.push(line),
    });
  } catch (err) {
    if (ownDb) await db.close();
    throw err;
  }
  const client = (jwt = stack.serviceRoleKey) =>
    createClient(stack.gatewayUrl, stack.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      // Node 20 has no WebSocket of its own; supabase-js needs one for realtime even if unused.
      realtime: { transport: ws as never },
      global: { headers: { Authorization: `Bearer ${jwt}` } },
    });
  return {
    db,
    stack,
    sandbox: sandboxControl(stack.sandbox!.url),
    lines,
    client,
    userJwt: (userId) => stack.mintJwt({ role: "authenticated", sub: userId }),
    legacyJwt: (opts) =>
      mintJwt(stack.config.callers!.jwtSecret!, {
        ...opts,
        issuer: `${stack.gatewayUrl}/auth/v1`,
      }),
    async close() {
      await stack.stop();
      if (ownDb) await db.close();
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 10_000, everyMs = 25 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
