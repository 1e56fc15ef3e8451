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

export function createSql(
  config: Config,
  onnotice?: (notice: postgres.Notice) => void,
): Sql {
  return postgres(databaseUrl(config), {
    max: config.database.poolMax,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: onnotice ?? (() => {}),
    connection: { application_name: "hlf-dynamics-sync" },
  });
}
