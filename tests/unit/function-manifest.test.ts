import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseFunctionManifest } from "../../local/function-manifest.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const toml = readFileSync(resolve(root, "supabase/config.toml"), "utf8");

describe("supabase/config.toml", () => {
  const specs = parseFunctionManifest(toml);

  it("declares the six functions, only the inbound webhook without JWT verification", () => {
    expect(Object.fromEntries(specs.map((s) => [s.name, s.verifyJwt]))).toEqual({
      "certification-expired": true,
      "certification-renewed": true,
      "sync-retry": true,
      "sync-resend": true,
      "sync-status": true,
      "dynamics-webhook": false,
    });
  });

  it("points each entrypoint at ../functions/NAME/index.ts, which serves a Hono app", () => {
    for (const s of specs) {
      expect(s.entrypoint).toBe(`../functions/${s.name}/index.ts`);
      const file = resolve(root, "supabase", s.entrypoint);
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, "utf8")).toMatch(/Deno\.serve\(app\.fetch\)/);
    }
  });

  it("resolves supabase/migrations to the top-level migrations folder", () => {
    const link = resolve(root, "supabase/migrations");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(resolve(root, "supabase", readlinkSync(link))).toBe(resolve(root, "migrations"));
  });
});

describe("parseFunctionManifest", () => {
  it("defaults verify_jwt to true and ignores comments and other sections", () => {
    const specs = parseFunctionManifest(`
[api]
verify_jwt = false
[functions.a] # trailing comment
entrypoint = "./a.ts"
[functions.b]
verify_jwt = false # public
`);
    expect(specs).toEqual([
      { name: "a", verifyJwt: true, entrypoint: "./a.ts" },
      { name: "b", verifyJwt: false, entrypoint: "" },
    ]);
  });
});
