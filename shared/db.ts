// The SQL client (postgres.js). One pool per process; on the embedded PGlite every connection shares
// the one database session, so the pool is kept small and nothing relies on session state.
import postgres from "postgres";
import type { DatabaseConfig } from "./config.ts";
import type { Logger } from "./logger.ts";

export type Sql = postgres.Sql;

/** Supavisor's and PgBouncer's transaction-mode port on Supabase. */
const TRANSACTION_POOLER_PORT = "6543";

/**
 * The URL postgres.js is given and whether it may prepare statements. Behind a transaction pooler
 * (port 6543, or `pgbouncer=true` as Prisma and others spell it) consecutive statements can run on
 * different server connections, so prepared statements are off. The `pgbouncer` parameter is
 * removed: postgres.js would send it to the server as a startup parameter, which Postgres refuses.
 */
export function connectionFor(url: string): { url: string; prepare: boolean } {
  const parsed = new URL(url);
  const flag = parsed.searchParams.get("pgbouncer");
  parsed.searchParams.delete("pgbouncer");
  const pooled = parsed.port === TRANSACTION_POOLER_PORT || flag === "true";
  return { url: flag === null ? url : parsed.toString(), prepare: !pooled };
}

export interface SqlOptions {
  /** Names the connections in pg_stat_activity. */
  applicationName?: string;
  /**
   * Commit without waiting for the WAL flush. For the dispatcher's own bookkeeping only (claims,
   * round results): a database crash can then forget the last moments of results, and those events
   * are simply delivered again with the same eventId. Measured: WAL flush waits dominated a mass
   * expiry, two commits per delivered event. Not behind a transaction pooler: PgBouncer refuses
   * start-up parameters it does not know, and a server connection's setting would not follow the
   * client anyway.
   */
  asyncCommit?: boolean;
}

export function createSql(database: DatabaseConfig, opts: SqlOptions = {}): Sql {
  const { url, prepare } = connectionFor(database.url);
  return postgres(url, {
    max: database.poolMax,
    prepare,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? "hlf-dynamics-sync",
      ...(opts.asyncCommit && prepare ? { synchronous_commit: "off" } : {}),
    },
  });
}

/**
 * Whether an unhandled rejection is postgres.js's own start-up query failing. On every new
 * connection 3.4.9 fetches the array types and drops that query's promise (porsager/postgres#1192,
 * #1205, #1223, all open), so when the connection dies or the query is cancelled meanwhile, the
 * rejection reaches no one, and unhandled it ends a Deno process with every request it serves. The
 * query that opened the connection fails or succeeds on its own. Recognised by the driver's query
 * text: a driver that words it differently is not matched, and the process ends as before.
 */
export function isDroppedTypeFetch(reason: unknown): boolean {
  const query = (reason as { query?: unknown } | null)?.query;
  return typeof query === "string" && /\bb\.typarray\b/.test(query) &&
    query.includes("pg_catalog.pg_type");
}

let typeFetchGuarded = false;

/**
 * Keeps this Deno process serving through `isDroppedTypeFetch` rejections, logged as warnings; any
 * other unhandled rejection still ends it. Installed once per process; a no-op under Node (tests,
 * the bench), which has no global `unhandledrejection` event.
 */
export function surviveDroppedTypeFetch(log: Logger): void {
  if (typeFetchGuarded || typeof globalThis.addEventListener !== "function") return;
  typeFetchGuarded = true;
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isDroppedTypeFetch(event.reason)) return;
    event.preventDefault();
    log.warn("database connection lost during the driver's start-up query", {
      code: String((event.reason as { code?: unknown }).code ?? ""),
    });
  });
}
