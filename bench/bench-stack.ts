// A local stack for one scenario: a fresh database (a new Postgres database created for the run
// when DATABASE_URL is set and dropped afterwards, else an in-memory PGlite), the sandbox in this
// process, the functions under Deno. Free ports only: the developer's stack and data are untouched.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
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

export async function withAdmin<T>(
  adminUrl: string,
  fn: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const name = `hlf_bench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  if (opts.adminUrl) await withAdmin(opts.adminUrl, (a) => a`create database ${a(name)}`);
  const dropDatabase = async () => {
    if (opts.adminUrl) {
      await withAdmin(opts.adminUrl, (a) => a`drop database if exists ${a(name)} with (force)`);
    }
  };
  const logLines: Record<string, number> = {};
  try {
    const stack = await startStack({
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: opts.adminUrl ? databaseUrl(opts.adminUrl, name) : undefined,
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
        const entry = /^\{"ts":"[^"]*","level":"(\w+)","msg":"([^"]*)"/.exec(line);
        if (entry) {
          const key = `${entry[1]} ${entry[2]}`;
          logLines[key] = (logLines[key] ?? 0) + 1;
        }
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
        await dropDatabase();
      },
    };
  } catch (err) {
    await dropDatabase();
    throw err;
  }
}
