// The PGlite wire server (local/db/pglite-wire.ts) under a result larger than a socket takes at
// once: PGlite streams it in views of one reused buffer, which the server must copy before queueing.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../local/db/pglite-server.ts";

describe("PGlite wire server", () => {
  let server: PgliteServer;
  let sql: postgres.Sql;

  beforeAll(async () => {
    server = await startPgliteServer({});
    sql = postgres(server.url, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await server?.stop();
  });

  it("delivers a result of 100,000 rows (megabytes, many chunks) whole and uncorrupted", async () => {
    const rows = await sql<{ n: number; pad: string }[]>`
      select g as n, repeat(chr(65 + g % 26), 40) as pad from generate_series(1, 100000) g`;

    expect(rows).toHaveLength(100_000);
    const wrong = rows.filter((r, i) =>
      r.n !== i + 1 || r.pad !== String.fromCharCode(65 + (i + 1) % 26).repeat(40)
    );
    expect(wrong).toEqual([]);
  });

  it("answers the next query on the same connection after it", async () => {
    const [row] = await sql<{ one: number }[]>`select 1 as one`;
    expect(row.one).toBe(1);
  });
});
