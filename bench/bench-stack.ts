// A local stack for one scenario: a fresh database (a new Postgres database created for the run
// when DATABASE_URL is set and dropped afterwards, else an in-memory PGlite started from a migrated
// tarball built once per bench run), the sandbox in this process, the functions under Deno. Free
// ports only: the developer's stack and data are untouched.
import { randomUUID } from "node:crypto";
import { startPgliteServer } from "../local/db/pglite-server.ts";
import { migratedPgliteDump } from "../local/db/pglite-template.ts";
import { createDatabase, dropDatabase } from "../local/db/databases.ts";
import { type Stack, startStack } from "../local/stack.ts";

export interface BenchStackOptions {
  /** The admin URL of a Postgres server; undefined = embedded PGlite. */
  adminUrl: string | undefined;
  /** Extra gateway environment (batch size, concurrency, pool size...). */
  env?: Record<string, string>;
  scheduler?: boolean;
}

export interface BenchStack {
  stack: Stack;
  /** Log lines the functions wrote so far (at the configured LOG_LEVEL), by level and message. */
  logLines(): Record<string, number>;
  close(): Promise<void>;
}

interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Adds a function's JSON log line to `counts`, by level and message ("info sync sweep"). */
export function countLogLine(counts: Record<string, number>, line: string): void {
  const entry = /^\{"ts":"[^"]*","level":"(\w+)","msg":"([^"]*)"/.exec(line);
  if (!entry) return;
  const key = `${entry[1]} ${entry[2]}`;
  counts[key] = (counts[key] ?? 0) + 1;
}

let pgliteDump: Promise<Blob> | undefined;

/** A fresh database for one scenario; the stack migrates it (a no-op on the migrated tarball). */
async function createBenchDatabase(adminUrl: string | undefined): Promise<BenchDatabase> {
  if (!adminUrl) {
    pgliteDump ??= migratedPgliteDump();
    // As many clients as the stack's own embedded database takes: the functions' pools, the bare
    // handler's and the bench's.
    const server = await startPgliteServer({ loadDataDir: await pgliteDump, maxConnections: 16 });
    return { url: server.url, drop: () => server.stop() };
  }
  const name = `hlf_bench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  return { url: await createDatabase(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const database = await createBenchDatabase(opts.adminUrl);
  const logLines: Record<string, number> = {};
  try {
    const stack = await startStack({
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        GATEWAY_PORT: "0",
        SANDBOX_PORT: "0",
        DB_PORT: "0",
        LOG_LEVEL: "warn",
        ...opts.env,
      },
      inMemory: true,
      sandbox: true,
      scheduler: opts.scheduler ?? true,
      // The stack's defaults, the nightly job aside: benchmarks call it when they mean to.
      schedulerIntervals: {
        sweepEveryMs: 30_000,
        expireEveryMs: 3_600_000,
        pollEveryMs: 25,
      },
      log: (line) => {
        countLogLine(logLines, line);
        // Warnings, errors and crashes only on the console.
        if (/"level":"(warn|error)"|Error|panicked/.test(line)) {
          process.stderr.write(`  [stack] ${line.slice(0, 300)}\n`);
        }
      },
    });
    return {
      stack,
      logLines: () => ({ ...logLines }),
      async close() {
        await stack.stop();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
}
