// Inbound webhook deliveries as HLF Dynamics sends them (signed either scheme), the function's runtime
// over a test database for in-process requests, and the row counts that prove "nothing written".
import type postgres from "postgres";
import { type Env, loadConfig } from "../../shared/config.ts";
import { createCallerVerifier } from "../../shared/http/jwt.ts";
import { LOCAL_PROFILE } from "../../local/env.ts";
import { createLogger } from "../../shared/logger.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { HLF_SIGNATURE_HEADER, signatureHeaders } from "../../shared/contract/signer.ts";
import type { TestDatabase } from "./db.ts";

export const INBOUND_SECRET = "inbound-test-secret-4kQ9zR";

export type SignatureScheme = "standard-webhooks" | "hlf";

export interface SignOptions {
  secret?: string;
  scheme?: SignatureScheme;
  /** The Standard Webhooks `webhook-id`; a fresh one by default. */
  id?: string;
  timestampSeconds?: number;
}

/** The signature headers Dynamics would send with `body` (only the chosen scheme's). */
export async function signedHeaders(
  body: Uint8Array | string,
  o: SignOptions = {},
): Promise<Record<string, string>> {
  const all = await signatureHeaders({
    id: o.id ?? `msg_${crypto.randomUUID()}`,
    body,
    secret: o.secret ?? INBOUND_SECRET,
    timestampSeconds: o.timestampSeconds ?? Date.now() / 1000,
  });
  if (o.scheme === "hlf") return { [HLF_SIGNATURE_HEADER]: all[HLF_SIGNATURE_HEADER] };
  const { [HLF_SIGNATURE_HEADER]: _hlf, ...standard } = all;
  return standard;
}

/** A request init for a signed JSON delivery of `event`. */
export async function signedDelivery(
  event: unknown,
  o: SignOptions = {},
): Promise<{ method: "POST"; headers: Record<string, string>; body: string }> {
  const body = JSON.stringify(event);
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...(await signedHeaders(body, o)) },
    body,
  };
}

export interface WriteCounts {
  ledger: number;
  issues: number;
  events: number;
  attempts: number;
}

/** Rows in every table an inbound delivery could write (directly or through its effect). */
export async function writeCounts(sql: postgres.Sql): Promise<WriteCounts> {
  const [row] = await sql<WriteCounts[]>`
    select (select count(*)::int from public.cert_notification_log) as ledger,
           (select count(*)::int from public.sync_issues) as issues,
           (select count(*)::int from public.sync_events) as events,
           (select count(*)::int from public.dynamics_sync_attempts) as attempts`;
  return row;
}

export interface InProcessRuntime {
  runtime: Runtime;
  /** The functions' log lines. */
  lines: string[];
}

/**
 * A runtime for calling a function's Hono app in-process (`createApp(runtime).request(...)`) over
 * the test database's own client. `sync` is absent on purpose: the endpoints exercised this way
 * (dynamics-webhook, the JWT checks) never dispatch, and a call would mean the test is wrong.
 */
export function inProcessRuntime(db: TestDatabase, env: Env = {}): InProcessRuntime {
  const lines: string[] = [];
  const config = loadConfig({
    ...LOCAL_PROFILE,
    DATABASE_URL: db.url,
    DYNAMICS_INBOUND_SECRETS: INBOUND_SECRET,
    // No gateway serves a JWKS here: an empty inline set, so only HS256 (with JWT_SECRET) verifies.
    SUPABASE_URL: "http://127.0.0.1:9",
    SUPABASE_JWKS: '{"keys":[]}',
    LOG_LEVEL: "info",
    ...env,
  }, ["database", "callers", "inbound"]);
  const runtime: Runtime = {
    config,
    log: createLogger(config.logLevel, (line) => lines.push(line)),
    sql: db.sql,
    callers: createCallerVerifier(config.callers!),
    get sync(): never {
      throw new Error("this in-process runtime has no sync service");
    },
    get dynamics(): never {
      throw new Error("this in-process runtime has no Dynamics client");
    },
    close: async () => {},
  };
  return { runtime, lines };
}
