// Embedded Postgres for the local stack and tests: a PGlite instance served over the Postgres wire
// protocol, so product code talks to it through postgres.js exactly as to a real server.
// PGlite is ONE session: clients are serialised by the wire server (see pglite-wire.ts), which resets
// session-level settings whenever the session passes to another client (so a client's session SET
// does not outlive its turn), so callers use SET LOCAL and never rely on LISTEN.
import { PGlite } from "@electric-sql/pglite";
import { startWireServer } from "./pglite-wire.ts";

export interface PgliteServerOptions {
  /** Persisted folder; undefined keeps the database in memory. */
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  maxConnections?: number;
  /** A `dumpDataDir()` tarball to start from instead of an empty cluster. */
  loadDataDir?: Blob | File;
}

export interface PgliteServer {
  url: string;
  port: number;
  db: PGlite;
  stop(): Promise<void>;
}

export async function startPgliteServer(opts: PgliteServerOptions = {}): Promise<PgliteServer> {
  const host = opts.host ?? "127.0.0.1";
  const db = await PGlite.create(opts.dataDir, { loadDataDir: opts.loadDataDir });
  let server;
  try {
    server = await startWireServer({
      db,
      host,
      port: opts.port ?? 0,
      maxConnections: opts.maxConnections,
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  const wire = server;
  return {
    url: `postgres://postgres@${host}:${wire.port}/postgres`,
    port: wire.port,
    db,
    async stop() {
      await wire.stop();
      await db.close();
    },
  };
}
