// postgres.js 3.4.9 fetches the array types on every new connection and drops that query's promise
// (porsager/postgres#1192, #1205, #1223): a connection that dies during it leaves a rejection no
// code of ours can await, and Deno ends the process on an unhandled rejection, with every request
// it was serving. A loopback proxy in front of the database answers the driver's first type query
// as Postgres does a backend terminated at that moment (57P01, then the socket closes); later
// connections pass through. A pool with the driver's defaults shows the hazard is real; the
// product's pool (shared/db.ts, fetch_types off), bare or in a function booted as deployed, never
// sends that query, so there is nothing to kill, and it lives on.
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnDeno } from "../../local/deno-process.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { type DbProxy, startDbProxy } from "../support/db-proxy.ts";

let db: TestDatabase;
let proxy: DbProxy;
let killed = 0;
/** The index of the probe's first connection through the proxy: only its query is killed. */
let firstOfProbe = 0;

/** Postgres's ErrorResponse for a backend terminated by an administrator. */
function terminatedResponse(): Buffer {
  const fields = Buffer.concat([
    ...[["S", "FATAL"], ["V", "FATAL"], ["C", "57P01"], [
      "M",
      "terminating connection due to administrator command",
    ]].map(([code, text]) => Buffer.from(`${code}${text}\0`)),
    Buffer.from("\0"),
  ]);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  if (db.engine !== "postgres") return;
  proxy = await startDbProxy(db.url, (chunk, { index, client, server }) => {
    if (index !== firstOfProbe || !chunk.includes("b.typarray")) return true;
    killed++;
    client.end(terminatedResponse());
    server.destroy();
    return false;
  });
});
afterAll(async () => {
  await proxy?.close();
  await db?.close();
});

async function probe(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  killed = 0;
  firstOfProbe = proxy.connections;
  const child = spawnDeno("tests/support/type-fetch-probe.ts", args, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SUPABASE_DB_URL: proxy.url,
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on("line", (l) => lines.push(l));
  const [code] = await once(child, "exit");
  return { code, lines };
}

describe("a connection that dies during postgres.js's start-up type query", () => {
  it("ends a Deno process whose pool has the driver's defaults", async ({ skip }) => {
    if (db.engine !== "postgres") skip("the proxy stands in front of a Postgres server");
    const { code, lines } = await probe(["--driver-defaults"]);
    expect(killed).toBe(1);
    expect(code).not.toBe(0);
    expect(lines.join("\n")).toMatch(/57P01|terminating connection/);
    expect(lines).not.toContain(JSON.stringify({ msg: "still running" }));
  }, 60_000);

  for (
    const [name, args] of [["the product's pool", ["--product-pool"]], ["a booted function", []]]
  ) {
    it(`never happens to ${name}: it sends no type query and lives on`, async ({ skip }) => {
      if (db.engine !== "postgres") skip("the proxy stands in front of a Postgres server");
      const { code, lines } = await probe(args as string[]);
      expect(killed).toBe(0);
      expect(code).toBe(0);
      expect(lines).toContain(JSON.stringify({ msg: "still running" }));
    }, 60_000);
  }
});
