// What the command-line tools (seed, trigger, send-inbound) share: the running local stack's
// database (or DATABASE_URL) for one command, its gateway URL and configured secrets (the local
// profile unless the environment says otherwise), and a usage error that exits with status 2.
import postgres from "postgres";
import { type Config, loadConfig, readEnvironment } from "../shared/config.ts";
import { connectionFor } from "../shared/db.ts";
import { localSettings, withLocalProfile } from "./env.ts";

export function usageError(message: string, usage: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

export interface StackContext {
  config: Config;
  /** The running stack's functions gateway (SUPABASE_URL when set). */
  gatewayUrl: string;
}

/** Runs `fn` with a client for the stack's database; a failure is printed and exits 1. */
export async function withStackDatabase(
  what: string,
  fn: (sql: postgres.Sql, stack: StackContext) => Promise<void>,
): Promise<void> {
  const env = withLocalProfile(readEnvironment());
  const config = loadConfig(env, ["inbound"]);
  const settings = localSettings(env);
  // The configured server, or the running stack's embedded PGlite on its wire-protocol port.
  const { url, prepare } = connectionFor(
    config.database?.url ?? `postgres://postgres@127.0.0.1:${settings.ports.database}/postgres`,
  );
  const sql = postgres(url, { max: 1, prepare, onnotice: () => {} });
  const gatewayUrl = (env.SUPABASE_URL ?? `http://127.0.0.1:${settings.ports.gateway}`)
    .replace(/\/+$/, "");
  try {
    await fn(sql, { config, gatewayUrl });
  } catch (err) {
    console.error(`${what} failed (is \`npm start\` running?): ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
