// A migrated PGlite cluster as a `dumpDataDir()` tarball. Creating a cluster (initdb, in WASM) takes
// about 4 s on the 2-core machine and loading one from this tarball about 1 s, so whatever needs many
// fresh databases (the test run, the benchmarks) migrates once and starts each database from it.
import { startPgliteServer } from "./pglite-server.ts";
import { prepareDatabase } from "./prepare.ts";
import { withClient } from "./with-client.ts";

export async function migratedPgliteDump(): Promise<Blob> {
  const server = await startPgliteServer();
  try {
    await withClient(server.url, prepareDatabase);
    return await server.db.dumpDataDir("none");
  } finally {
    await server.stop();
  }
}
