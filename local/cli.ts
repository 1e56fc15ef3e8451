// What the command-line tools (seed, trigger, send-inbound) share: the running local stack's
// database (or DATABASE_URL) for one command, and a usage error that exits with status 2.
import postgres from "postgres";
import { type Config, loadConfig } from "../shared/config.ts";
import { databaseUrl } from "../shared/db.ts";

export function usageError(message: string, usage: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

/** Runs `fn` with a client for the stack's database; a failure is printed and exits 1. */
export async function withStackDatabase(
  what: string,
  fn: (sql: postgres.Sql, config: Config) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const sql = postgres(databaseUrl(config), { max: 1, onnotice: () => {} });
  try {
    await fn(sql, config);
  } catch (err) {
    console.error(`${what} failed (is \`npm start\` running?): ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
