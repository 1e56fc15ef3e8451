// What the figures were measured on: the database (engine and version), the runtimes, and how fast
// the machine was at the start of the run. This VM's speed moves between runs (the same code's plan
// executed in 3.7 ms in one run and 12 ms in another), so every row carries a probe: the median
// time of a fixed piece of JavaScript work, comparable between runs on one machine only.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { withClient } from "../local/db/with-client.ts";

const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const PGLITE_PACKAGE = new URL(
  "../node_modules/@electric-sql/pglite/package.json",
  import.meta.url,
);

export interface Environment {
  engine: "pglite" | "postgres";
  database: string;
  runtime: string;
}

async function postgresVersion(adminUrl: string): Promise<string> {
  const [row] = await withClient(
    adminUrl,
    (sql) => sql<{ v: string }[]>`select current_setting('server_version') as v`,
  );
  return row.v.split(" ")[0];
}

/** Median ms of 9 rounds of building, serialising, parsing and sorting 60,000 small records. */
export function speedProbeMs(): number {
  const rounds: number[] = [];
  for (let round = 0; round < 9; round++) {
    const started = performance.now();
    const records = Array.from({ length: 60_000 }, (_, i) => ({
      id: `mentor-${(i * 7919) % 60_000}`,
      attempts: i % 5,
      at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    }));
    const parsed = JSON.parse(JSON.stringify(records)) as typeof records;
    parsed.sort((a, b) => a.id.localeCompare(b.id));
    rounds.push(performance.now() - started);
  }
  return rounds.sort((a, b) => a - b)[4];
}

/**
 * The engine, database and runtime the rows are recorded with. A smoke run records nothing and has
 * to stay under a minute in CI, so it skips the speed probe (about 2 s).
 */
export async function describeEnvironment(
  adminUrl: string | undefined,
  { probe }: { probe: boolean },
): Promise<Environment> {
  const { stdout } = await promisify(execFile)(DENO, ["--version"]);
  const deno = stdout.split("\n")[0].split(" ")[1];
  const runtime = `deno ${deno}, node ${process.versions.node}; speed probe ${
    probe ? `${Math.round(speedProbeMs())} ms` : "skipped (smoke)"
  }`;
  if (adminUrl) {
    return { engine: "postgres", database: `postgres ${await postgresVersion(adminUrl)}`, runtime };
  }
  const pglite = JSON.parse(await readFile(PGLITE_PACKAGE, "utf8")) as { version: string };
  return { engine: "pglite", database: `pglite ${pglite.version}`, runtime };
}
