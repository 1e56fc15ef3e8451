import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MigrationError, readMigrations } from "../../local/db/migrate.ts";
import { applyStandIn } from "../../local/db/prepare.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let scratch: string;

beforeAll(async () => {
  db = await createTestDatabase();
  scratch = await mkdtemp(join(tmpdir(), "hlf-migrations-"));
});
afterAll(async () => {
  await db?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function writeMigrations(dir: string, files: Record<string, string>): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe("migrations", () => {
  it("are recorded in supabase_migrations.schema_migrations the way the Supabase CLI records them", async () => {
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    const rows = await db.sql<{ version: string; name: string; statements: string[] }[]>`
      select version, name, statements from supabase_migrations.schema_migrations order by version`;
    expect(rows).toEqual(
      files.map((f) => ({ version: f.version, name: f.name, statements: f.statements })),
    );
    for (const f of files) expect(f.file).toBe(`${f.version}_${f.name}.sql`);
    expect(files.every((f) => /^\d{14}$/.test(f.version))).toBe(true);
  });

  it("re-running applies nothing", async () => {
    const result = await applyMigrations(db.sql);
    expect(result.applied).toEqual([]);
    expect(result.skipped).toEqual((await readMigrations()).map((f) => f.file));
  });

  it("the Supabase stand-in is idempotent on a migrated database", async () => {
    await applyStandIn(db.sql);
    await applyStandIn(db.sql);
    const roles = await db.sql<{ rolname: string; rolbypassrls: boolean }[]>`
      select rolname, rolbypassrls from pg_roles
       where rolname in ('anon', 'authenticated', 'service_role') order by rolname`;
    expect(roles).toEqual([
      { rolname: "anon", rolbypassrls: false },
      { rolname: "authenticated", rolbypassrls: false },
      { rolname: "service_role", rolbypassrls: true },
    ]);
  });

  it("a failing file rolls back entirely, names the file, and keeps earlier files applied", async () => {
    const dir = await writeMigrations(join(scratch, "failing"), {
      "29990101000000_good.sql": "create table public.scratch_good (id int);",
      "29990101000001_bad.sql":
        "create table public.scratch_bad (id int);\ninsert into public.scratch_bad values (1 / 0);",
    });
    const failure = await applyMigrations(db.sql, { dir }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).message).toContain("29990101000001_bad.sql");
    expect((failure as MigrationError).statementIndex).toBe(1);
    expect((failure as MigrationError).kind).toBe("permanent");
    const [state] = await db.sql`
      select to_regclass('public.scratch_good') is not null as good,
             to_regclass('public.scratch_bad') is not null as bad,
             array(select version from supabase_migrations.schema_migrations
                    where version like '2999%' order by version) as versions`;
    expect(state).toEqual({ good: true, bad: false, versions: ["29990101000000"] });
  });

  it("concurrent runners apply each file exactly once", async ({ skip }) => {
    if (db.engine !== "postgres") skip("PGlite is one session: no concurrent runners to serialise");
    const dir = await writeMigrations(join(scratch, "concurrent"), {
      "29990201000000_counter.sql": "create table public.scratch_runs (n int);",
      "29990201000001_count.sql": "insert into public.scratch_runs values (1);",
    });
    const clients = [db.connect(), db.connect(), db.connect()];
    const results = await Promise.all(clients.map((c) => applyMigrations(c, { dir })));
    expect(results.flatMap((r) => r.applied).sort()).toEqual([
      "29990201000000_counter.sql",
      "29990201000001_count.sql",
    ]);
    const [{ runs }] = await db.sql`select count(*)::int as runs from public.scratch_runs`;
    expect(runs).toBe(1);
  });
});
