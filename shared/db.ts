// The SQL client (postgres.js). One pool per process; on the embedded PGlite every connection shares
// the one database session, so the pool is kept small and nothing relies on session state.
import postgres from "postgres";
import type { Config } from "./config.ts";

export type Sql = postgres.Sql;

/** The configured server, or the local stack's embedded PGlite on its wire-protocol port. */
export function databaseUrl(config: Config): string {
  return config.database.url ??
    `postgres://postgres@127.0.0.1:${config.ports.database}/postgres`;
}

export interface SqlOptions {
  /** Names the connections in pg_stat_activity. */
  applicationName?: string;
  /**
   * Commit without waiting for the WAL flush. For the dispatcher's own bookkeeping only (claims,
   * round results): a database crash can then forget the last moments of results, and those events
   * are simply delivered again with the same eventId. Measured: WAL flush waits dominated a mass
   * expiry, two commits per delivered event.
   */
  asyncCommit?: boolean;
}

export function createSql(config: Config, opts: SqlOptions = {}): Sql {
  return postgres(databaseUrl(config), {
    max: config.database.poolMax,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? "hlf-dynamics-sync",
      ...(opts.asyncCommit ? { synchronous_commit: "off" } : {}),
    },
  });
}
