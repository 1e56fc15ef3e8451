import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseFunctionManifest } from "../../local/function-manifest.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const toml = readFileSync(resolve(root, "supabase/config.toml"), "utf8");

describe("supabase/config.toml", () => {
  const specs = parseFunctionManifest(toml);

  it("declares the eight functions, only the inbound webhook without JWT verification", () => {
    expect(Object.fromEntries(specs.map((s) => [s.name, s.verifyJwt]))).toEqual({
      "certification-expired": true,
      "certification-renewed": true,
      "sync-retry": true,
      "sync-resend": true,
      "sync-status": true,
      "sync-reconcile": true,
      "sync-health": true,
      "dynamics-webhook": false,
    });
  });

  it("points each entrypoint at ../functions/NAME/index.ts, which boots the function's Hono app", () => {
    for (const s of specs) {
      expect(s.entrypoint).toBe(`../functions/${s.name}/index.ts`);
      const file = resolve(root, "supabase", s.entrypoint);
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, "utf8")).toMatch(/Deno\.serve\(bootFunction\(/);
    }
  });

  it("bundles every function with the functions' Deno config, which needs no node_modules", () => {
    // Supabase uploads no node_modules: "manual" would leave every npm: import unresolved.
    for (const s of specs) expect(s.importMap).toBe("../functions/deno.json");
    const functionsConfig = JSON.parse(readFileSync(resolve(root, "functions/deno.json"), "utf8"));
    expect(functionsConfig.nodeModulesDir).toBe("none");
  });

  it("pins every npm import to the range package.json installs, in one import map", () => {
    const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));
    const { imports } = JSON.parse(readFileSync(resolve(root, "functions/deno.json"), "utf8"));
    const rootConfig = JSON.parse(readFileSync(resolve(root, "deno.json"), "utf8"));
    expect(rootConfig.importMap).toBe("./functions/deno.json");
    expect(rootConfig.imports).toBeUndefined();
    for (const [specifier, target] of Object.entries<string>(imports)) {
      const npm = /^npm:\/?((?:@[^/]+\/)?[^@/]+)@([^/]+)\/?$/.exec(target);
      expect(npm, `${specifier} -> ${target}`).not.toBeNull();
      const [, name, range] = npm!;
      expect(pkg.dependencies[name], `package.json dependencies.${name}`).toBe(range);
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
      { name: "a", verifyJwt: true, entrypoint: "./a.ts", importMap: "" },
      { name: "b", verifyJwt: false, entrypoint: "", importMap: "" },
    ]);
  });
});
