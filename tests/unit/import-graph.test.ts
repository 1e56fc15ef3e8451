// The dependency rules the folders stand for (README, Layout), checked over every relative import in
// the tree: the Dynamics client knows nothing of the outbox or the contract, the contract nothing of
// HTTP or Dynamics, the outbox nothing of HTTP, and nothing deployed or run in production (shared/,
// functions/, worker/) imports the local stack. The developer tools that drive the local stack on
// purpose (tools/: privileges table, .env.example; examples/: the README's supabase-js example run
// against it) may, like tests/ and bench/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SKIP = new Set(["node_modules", ".git", ".local-data"]);

interface Rule {
  from: string;
  forbidden: string;
  except?: readonly string[];
}

const RULES: readonly Rule[] = [
  { from: "shared/dynamics/", forbidden: "shared/outbox/" },
  { from: "shared/dynamics/", forbidden: "shared/contract/" },
  { from: "shared/contract/", forbidden: "shared/http/" },
  { from: "shared/contract/", forbidden: "shared/dynamics/" },
  { from: "shared/outbox/", forbidden: "shared/http/" },
  { from: "", forbidden: "local/", except: ["local/", "tests/", "bench/", "tools/", "examples/"] },
];

interface Edge {
  from: string;
  to: string;
}

/** Every relative `.ts` specifier in `source` (static, dynamic and re-exports), resolved from `file`. */
function importsOf(file: string, source: string): string[] {
  const specifiers = source.matchAll(
    /(?:from\s+|import\s*\(\s*|import\s+)["'](\.\.?\/[^"']+)["']/g,
  );
  return [...specifiers].map((m) => normalize(join(dirname(file), m[1])).replaceAll("\\", "/"));
}

function violations(edges: readonly Edge[], rules: readonly Rule[] = RULES): string[] {
  return edges.flatMap(({ from, to }) =>
    rules
      .filter((r) =>
        from.startsWith(r.from) && to.startsWith(r.forbidden) &&
        !(r.except ?? []).some((e) => from.startsWith(e))
      )
      .map((r) =>
        `${from} imports ${to} (${r.from || "outside local/"} must not import ${r.forbidden})`
      )
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function repositoryEdges(): Edge[] {
  return sourceFiles("").flatMap((from) =>
    importsOf(from, readFileSync(join(ROOT, from), "utf8")).map((to) => ({ from, to }))
  );
}

describe("import graph", () => {
  const edges = repositoryEdges();

  it("reads the tree's imports (the checker sees the folders it guards)", () => {
    const targets = new Set(edges.map((e) => e.to.split("/").slice(0, 2).join("/")));
    for (const folder of ["shared/contract", "shared/http", "shared/dynamics", "shared/outbox"]) {
      expect(targets, folder).toContain(folder);
    }
    expect(edges.some((e) => e.from.startsWith("tests/") && e.to.startsWith("local/"))).toBe(true);
  });

  it("follows the dependency rules", () => {
    expect(violations(edges)).toEqual([]);
  });

  it("reports each forbidden edge, and allows the exceptions", () => {
    const found = violations([
      { from: "shared/dynamics/dynamics-client.ts", to: "shared/outbox/sync-queries.ts" },
      { from: "shared/dynamics/classify.ts", to: "shared/contract/payload.ts" },
      { from: "shared/contract/api.ts", to: "shared/http/http.ts" },
      { from: "shared/contract/api.ts", to: "shared/dynamics/errors.ts" },
      { from: "shared/outbox/sync-queries.ts", to: "shared/http/jwt.ts" },
      { from: "worker/dispatcher.ts", to: "local/scheduler.ts" },
      { from: "functions/sync-retry/app.ts", to: "local/env.ts" },
      { from: "shared/runtime.ts", to: "local/env.ts" },
      { from: "local/stack.ts", to: "local/env.ts" },
      { from: "tests/support/stack.ts", to: "local/stack.ts" },
      { from: "bench/run.ts", to: "local/stack.ts" },
      { from: "shared/outbox/sync-queries.ts", to: "shared/dynamics/dynamics-client.ts" },
    ]);
    expect(found.map((v) => v.split(" ")[0])).toEqual([
      "shared/dynamics/dynamics-client.ts",
      "shared/dynamics/classify.ts",
      "shared/contract/api.ts",
      "shared/contract/api.ts",
      "shared/outbox/sync-queries.ts",
      "worker/dispatcher.ts",
      "functions/sync-retry/app.ts",
      "shared/runtime.ts",
    ]);
  });

  it("resolves static, dynamic and re-export specifiers relative to the importing file", () => {
    const source = [
      `import { a } from "../dynamics/errors.ts";`,
      `export { b } from "./payload.ts";`,
      `const c = await import("../../local/env.ts");`,
      `import "./side-effect.ts";`,
      `import { z } from "zod";`,
    ].join("\n");
    expect(importsOf("shared/contract/api.ts", source)).toEqual([
      "shared/dynamics/errors.ts",
      "shared/contract/payload.ts",
      "local/env.ts",
      "shared/contract/side-effect.ts",
    ]);
  });
});
