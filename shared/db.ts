// The SQL client (postgres.js). One pool per process; on the embedded PGlite every connection shares
// the one database session, so the pool is kept small and nothing relies on session state.
import postgres from "postgres";
import type { DatabaseConfig } from "./config.ts";

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
    // No start-up query for the array types on each new connection. postgres.js 3.4.9 drops that
    // query's promise (porsager/postgres#1192, #1205, #1223), so a connection dying during it left
    // a rejection no one could handle, which ends a Deno process; and until one connection had
    // learned the types, a JS array parameter went out as "a,b" and an array column came back as
    // its text (porsager/postgres#1164): a fresh function's first confirmations failed with 22P02.
    // Without it the rule holds from the first statement and tests catch a break: ids go in as
    // JSON (`sql.json`) and lists come out as JSON (`to_jsonb`), never as Postgres arrays.
    fetch_types: false,
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
