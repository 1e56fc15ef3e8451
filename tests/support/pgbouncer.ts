// PgBouncer (Debian's package) in transaction mode in front of the real Postgres, the way Supabase's
// transaction pooler (port 6543) serves edge functions: a server connection per transaction, so no
// prepared statement or session setting survives from one transaction to the next.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../../local/stack.ts";

export const PGBOUNCER_BINARY = "/usr/sbin/pgbouncer";

export interface PgBouncer {
  /** `postgres://postgres@127.0.0.1:PORT`; append `/<database>`. */
  url: string;
  /** Transactions PgBouncer has passed to the server per database (its SHOW STATS). */
  transactions(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export async function startPgBouncer(
  upstream: { host: string; port: number },
): Promise<PgBouncer> {
  const dir = await mkdtemp(join(tmpdir(), "pgbouncer-"));
  // PgBouncer refuses to run as root; started as root it switches to `-u postgres`, which must be
  // able to read its files.
  await chmod(dir, 0o777);
  const port = await freePort();
  await writeFile(join(dir, "users.txt"), `"postgres" ""\n`);
  await writeFile(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      // The fallback entry routes every database name to the server: each test file has its own.
      `* = host=${upstream.host} port=${upstream.port}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      "auth_type = trust",
      `auth_file = ${join(dir, "users.txt")}`,
      "admin_users = postgres",
      "pool_mode = transaction",
      "max_client_conn = 500",
      "default_pool_size = 20",
      // postgres.js sends these at start-up; PgBouncer passes only a few parameters through.
      "ignore_startup_parameters = extra_float_digits,options",
      "",
    ].join("\n"),
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn(
    PGBOUNCER_BINARY,
    [...(asRoot ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = `postgres://postgres@127.0.0.1:${port}`;
  const admin = () =>
    postgres(`${url}/pgbouncer`, {
      max: 1,
      prepare: false,
      fetch_types: false,
      onnotice: () => {},
    });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${stderr.trim()}`);
    const probe = admin();
    try {
      await probe.unsafe("show version").simple();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`pgbouncer did not start: ${err} ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
  return {
    url,
    async transactions() {
      const sql = admin();
      try {
        const rows = await sql.unsafe("show stats").simple();
        return new Map(rows.map((r) => [String(r.database), Number(r.total_xact_count)]));
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
    async stop() {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
