// Product code opens no transaction with `sql.begin` and reserves no connection (`sql.reserve`):
// when the backend of a reserved connection dies, postgres.js 3.4.9 can throw from a timer, outside
// every promise, and end the process with every request it serves (porsager/postgres#1208; fix PR
// #1209 not released). Seen here: a Deno loop of transactions whose backends were terminated every
// 200 ms ended with `Cannot read properties of null (reading 'write')` in each of three runs; the
// same loop as one-message statements (`callerSql`'s form) ran on. So what must happen together is
// one statement, or one simple-protocol message.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../deploy/supabase-cli.ts";

const PRODUCT = ["functions", "shared", "worker"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("product code and postgres.js's reserved connections", () => {
  it("never calls sql.begin or sql.reserve", () => {
    const files = PRODUCT.flatMap((dir) => sources(join(REPO_ROOT, dir)));
    expect(files.length).toBeGreaterThan(20);
    const uses = files.flatMap((file) =>
      readFileSync(file, "utf8").split("\n").flatMap((line, i) =>
        /\.(begin|reserve)\(/.test(line)
          ? [`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`]
          : []
      )
    );
    expect(uses).toEqual([]);
  });
});
