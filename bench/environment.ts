// What the figures were measured on: the database (engine and version) and the runtimes.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import postgres from "postgres";

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
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    return row.v.split(" ")[0];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function describeEnvironment(adminUrl: string | undefined): Promise<Environment> {
  const { stdout } = await promisify(execFile)(DENO, ["--version"]);
  const deno = stdout.split("\n")[0].split(" ")[1];
  const runtime = `deno ${deno}, node ${process.versions.node}`;
  if (adminUrl) {
    return { engine: "postgres", database: `postgres ${await postgresVersion(adminUrl)}`, runtime };
  }
  const pglite = JSON.parse(await readFile(PGLITE_PACKAGE, "utf8")) as { version: string };
  return { engine: "pglite", database: `pglite ${pglite.version}`, runtime };
}
