// Applies migrations/*.sql in filename order and records them exactly as the Supabase CLI does
// (`supabase_migrations.schema_migrations(version, statements, name)`), so a later
// `supabase db push` against the same database sees them as applied.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { splitSqlStatements } from "./sql-statements.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

/** Same pattern as the CLI: version = leading digits, name = the rest without `.sql`. */
const MIGRATION_FILE = /^(\d+)_(.*)\.sql$/;

// Any constant shared by every runner of this project; held per transaction.
const MIGRATION_LOCK_KEY = 7_245_310_118;

export interface MigrationFile {
  file: string;
  version: string;
  name: string;
  statements: string[];
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export interface MigrateOptions {
  dir?: string;
  log?: (line: string) => void;
}

export class MigrationError extends Error {
  readonly kind = "permanent" as const;
  constructor(readonly file: string, readonly statementIndex: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Migration ${file} failed at statement ${statementIndex + 1}: ${reason}`, { cause });
    this.name = "MigrationError";
  }
}

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  return Promise.all(names.map(async (file) => {
    const [, version, name] = MIGRATION_FILE.exec(file)!;
    const statements = splitSqlStatements(await readFile(join(dir, file), "utf8"));
    return { file, version, name, statements };
  }));
}

async function ensureHistoryTable(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    // The CLI's own idempotent DDL; its "already exists" notices are noise on every run.
    await tx`set local client_min_messages = warning`;
    await tx`create schema if not exists supabase_migrations`;
    await tx`create table if not exists supabase_migrations.schema_migrations (
      version text not null primary key
    )`;
    await tx`alter table supabase_migrations.schema_migrations
      add column if not exists statements text[]`;
    await tx`alter table supabase_migrations.schema_migrations add column if not exists name text`;
  });
}

/**
 * Each file runs in its own transaction that first takes a transaction-scoped advisory lock and
 * re-checks the history, so concurrent runners apply every version exactly once.
 */
export async function applyMigrations(
  sql: postgres.Sql,
  opts: MigrateOptions = {},
): Promise<MigrationResult> {
  const log = opts.log ?? (() => {});
  const migrations = await readMigrations(opts.dir);
  await ensureHistoryTable(sql);
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    const applied = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      const [done] = await tx`
        select 1 from supabase_migrations.schema_migrations where version = ${m.version}`;
      if (done) return false;
      for (const [index, statement] of m.statements.entries()) {
        try {
          await tx.unsafe(statement).simple();
        } catch (error) {
          throw new MigrationError(m.file, index, error);
        }
      }
      await tx`insert into supabase_migrations.schema_migrations (version, name, statements)
        values (${m.version}, ${m.name}, ${tx.array(m.statements)})`;
      return true;
    });
    (applied ? result.applied : result.skipped).push(m.file);
    log(`${applied ? "applied" : "skipped"} ${m.file}`);
  }
  return result;
}
