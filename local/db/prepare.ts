// One call that turns an empty database into this project's schema: the Supabase stand-in (roles,
// auth schema, default grants) and then the migrations.
import { readFile } from "node:fs/promises";
import type postgres from "postgres";
import { applyMigrations, type MigrateOptions, type MigrationResult } from "./migrate.ts";

const STAND_IN = new URL("./supabase-stand-in.sql", import.meta.url);

/** Runs supabase-stand-in.sql as one implicit transaction; safe to repeat and to race. */
export async function applyStandIn(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(await readFile(STAND_IN, "utf8")).simple();
}

export async function prepareDatabase(
  sql: postgres.Sql,
  opts: MigrateOptions = {},
): Promise<MigrationResult> {
  await applyStandIn(sql);
  return applyMigrations(sql, opts);
}
