// Test databases. Every test file gets its own migrated database:
// - no database URL configured: a fresh in-memory PGlite, served on a free port, started from a
//   migrated data-dir tarball built once per run by the global setup;
// - DATABASE_URL / SUPABASE_DB_URL set: a fresh database created from a run-unique migrated template.
// Without the global setup (a file run on its own with another config) each database is migrated
// from scratch instead: slower, same result.
// TEST_POOLER_URL (set by `npm run test:pooled`) puts PgBouncer between the product and Postgres:
// `url`, what the stack's functions connect to, then goes through the pooler, while the test's own
// clients stay direct (the pooler cannot create or drop databases from a template).
import { randomUUID } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, inject } from "vitest";
import { prepareDatabase } from "../../local/db/prepare.ts";
import { startPgliteServer } from "../../local/db/pglite-server.ts";
import { migratedPgliteDump } from "../../local/db/pglite-template.ts";
import { createDatabase, databaseUrl, dropDatabase } from "../../local/db/databases.ts";
import { withClient } from "../../local/db/with-client.ts";
import { loadConfig } from "../../shared/config.ts";
import { callerContext } from "../../shared/http/caller-context.ts";
import type { Caller } from "../../shared/http/jwt.ts";

export type Engine = "pglite" | "postgres";

export type TestDatabaseTemplate =
  | { engine: "pglite"; dumpPath: string }
  | { engine: "postgres"; adminUrl: string; templateName: string };

declare module "vitest" {
  export interface ProvidedContext {
    testDatabaseTemplate: TestDatabaseTemplate | undefined;
  }
}

export interface TestDatabase {
  url: string;
  sql: postgres.Sql;
  engine: Engine;
  /**
   * Another client on the same database. Only real Postgres gives it its own session: on PGlite
   * every client shares one session, so concurrency tests must check `engine === "postgres"`.
   */
  connect(options?: postgres.Options<Record<string, never>>): postgres.Sql;
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Server notices and warnings (RAISE WARNING); silent by default. */
  onnotice?: (notice: postgres.Notice) => void;
}

/** The claims PostgREST puts in request.jwt.claims; `role` picks the database role. */
export interface JwtClaims {
  role: "anon" | "authenticated" | "service_role";
  sub?: string;
  [claim: string]: unknown;
}

export const claims = {
  anon: (): JwtClaims => ({ role: "anon" }),
  user: (userId: string): JwtClaims => ({
    role: "authenticated",
    sub: userId,
    aud: "authenticated",
  }),
  service: (): JwtClaims => ({ role: "service_role" }),
};

const quiet = () => {};

/** The URL the product is given: through the test pooler when one runs, as Supabase's pooler URL. */
function productUrl(directUrl: string, database: string): string {
  const pooler = process.env.TEST_POOLER_URL;
  if (!pooler) return directUrl;
  const u = new URL(databaseUrl(pooler, database));
  u.searchParams.set("pgbouncer", "true");
  return u.toString();
}

const uniqueName = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;

/** Builds the run's migrated template; the global setup provides it and disposes of it. */
export async function buildTestDatabaseTemplate(): Promise<{
  template: TestDatabaseTemplate;
  dispose(): Promise<void>;
}> {
  const adminUrl = loadConfig().database?.url;
  if (adminUrl) {
    const templateName = uniqueName("hlf_template");
    const url = await createDatabase(adminUrl, templateName);
    try {
      await withClient(url, (sql) => prepareDatabase(sql));
    } catch (error) {
      await dropDatabase(adminUrl, templateName);
      throw error;
    }
    return {
      template: { engine: "postgres", adminUrl, templateName },
      dispose: () => dropDatabase(adminUrl, templateName),
    };
  }
  const dumpPath = join(tmpdir(), `${uniqueName("hlf-pglite")}.tar`);
  const dump = await migratedPgliteDump();
  await writeFile(dumpPath, new Uint8Array(await dump.arrayBuffer()));
  return {
    template: { engine: "pglite", dumpPath },
    dispose: () => rm(dumpPath, { force: true }),
  };
}

/** The engine this run's tests use: real Postgres when DATABASE_URL is configured, else PGlite. */
export function configuredEngine(): Engine {
  return loadConfig().database?.url ? "postgres" : "pglite";
}

function injectedTemplate(): TestDatabaseTemplate | undefined {
  const template = inject("testDatabaseTemplate");
  return template?.engine === configuredEngine() ? template : undefined;
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const template = injectedTemplate();
  const adminUrl = loadConfig().database?.url;
  const clients: postgres.Sql[] = [];
  const open = (url: string, options: postgres.Options<Record<string, never>> = {}) => {
    const client = postgres(url, { max: 1, onnotice: opts.onnotice ?? quiet, ...options });
    clients.push(client);
    return client;
  };
  const endClients = () => Promise.all(clients.map((c) => c.end({ timeout: 5 })));

  if (adminUrl) {
    const name = uniqueName("hlf_test");
    const url = await createDatabase(
      adminUrl,
      name,
      template?.engine === "postgres" ? template.templateName : undefined,
    );
    const sql = open(url);
    if (!template) await prepareDatabase(sql);
    return {
      url: productUrl(url, name),
      sql,
      engine: "postgres",
      connect: (options) => open(url, options),
      async close() {
        await endClients();
        await dropDatabase(adminUrl, name);
      },
    };
  }

  const loadDataDir = template?.engine === "pglite"
    ? new Blob([new Uint8Array(await readFile(template.dumpPath))])
    : undefined;
  const server = await startPgliteServer({ loadDataDir, maxConnections: 8 });
  const sql = open(server.url);
  if (!template) await prepareDatabase(sql);
  return {
    url: server.url,
    sql,
    engine: "pglite",
    connect: (options) => open(server.url, options),
    async close() {
      await endClients();
      await server.stop();
    },
  };
}

/** One database for the calling test file or `describe` block: created before all, closed after all. */
export function useTestDatabase(opts: TestDatabaseOptions = {}): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(opts);
  });
  afterAll(() => db?.close());
  return () => {
    if (!db) throw new Error("the test database is not ready (use it inside a test or hook)");
    return db;
  };
}

/**
 * Runs `fn` in a transaction as `caller`, the context set as the product sets it (`callerContext`:
 * transaction-local role and claims), for tests that need several statements as one caller. The
 * product itself sends one statement per message instead (`callerSql`).
 */
export function asCaller<T>(
  sql: postgres.Sql,
  caller: Caller,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  return sql.begin(async (tx) => {
    await tx.unsafe(callerContext(caller));
    return fn(tx);
  }) as Promise<T>;
}

/**
 * Runs `fn` in a transaction as PostgREST would for a request with these JWT claims. Everything is
 * rolled back if `fn` throws.
 */
export function asRole<T>(
  sql: postgres.Sql,
  jwt: JwtClaims,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  const caller = { role: jwt.role, userId: jwt.sub ?? null, claims: jwt };
  return asCaller(sql, caller, fn);
}
