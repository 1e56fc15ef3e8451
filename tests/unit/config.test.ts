import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  ALL_NEEDS,
  ConfigError,
  DEFAULTS,
  loadConfig,
  type Need,
  VARIABLES,
} from "../../shared/config.ts";
import { WELL_KNOWN_LOCAL_SECRETS } from "../../shared/well-known-secrets.ts";
import { LOCAL_PROFILE, LOCAL_VARIABLES, localSettings } from "../../local/env.ts";
import { renderEnvExample } from "../../tools/env-example.ts";

/** What a deployed project has: Supabase's injected variables and real secrets, no local values. */
const PRODUCTION = {
  SUPABASE_URL: "https://abcd.supabase.co",
  SUPABASE_DB_URL: "postgres://postgres:pw@db.abcd.supabase.co:5432/postgres",
  SUPABASE_SECRET_KEYS: '{"default":"sb_secret_real_key"}',
  DYNAMICS_WEBHOOK_URL: "https://hlf.crm4.dynamics.com/api/data/v9.2/hlf_certificationwebhooks",
  DYNAMICS_TOKEN_URL: "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
  DYNAMICS_CLIENT_ID: "client",
  DYNAMICS_CLIENT_SECRET: "real-client-secret",
  DYNAMICS_SCOPE: "https://hlf.crm4.dynamics.com/.default",
  DYNAMICS_SIGNING_SECRET: "whsec_cmVhbC1zaWduaW5n",
  DYNAMICS_INBOUND_SECRETS: "whsec_cmVhbC1pbmJvdW5k",
};

const failure = (env: Record<string, string>, needs: readonly Need[] = ALL_NEEDS) => {
  try {
    loadConfig(env, needs);
  } catch (err) {
    if (err instanceof ConfigError) return { variable: err.variable, message: err.message };
    throw err;
  }
  return null;
};

describe("config", () => {
  it("loads a production environment for every function", () => {
    const c = loadConfig(PRODUCTION, ALL_NEEDS);
    expect(c.local).toBe(false);
    expect(c.warnings).toEqual([]);
    expect(c.database?.url).toBe(PRODUCTION.SUPABASE_DB_URL);
    expect(c.callers).toMatchObject({
      authUrl: "https://abcd.supabase.co/auth/v1",
      jwks: undefined,
      jwtSecret: undefined,
      serviceKeys: ["sb_secret_real_key"],
    });
    expect(c.outbound?.auth.mode).toBe("oauth2");
    expect(c.inbound.secrets).toEqual(["whsec_cmVhbC1pbmJvdW5k"]);
  });

  it("has no default for any secret or Dynamics URL: each missing one is named", () => {
    for (const name of Object.keys(PRODUCTION)) {
      if (name === "SUPABASE_SECRET_KEYS") continue; // service keys are optional (JWTs also work)
      const env: Record<string, string> = { ...PRODUCTION };
      delete env[name];
      expect(failure(env)?.variable, name).toBe(name);
    }
  });

  it("demands only what a function needs", () => {
    const databaseOnly = { SUPABASE_DB_URL: PRODUCTION.SUPABASE_DB_URL };
    expect(failure(databaseOnly, ["database", "inbound"])?.variable).toBe(
      "DYNAMICS_INBOUND_SECRETS",
    );
    expect(failure(databaseOnly, ["database", "callers"])?.variable).toBe("SUPABASE_URL");
    const status = loadConfig(
      { ...databaseOnly, SUPABASE_URL: PRODUCTION.SUPABASE_URL },
      ["database", "callers"],
    );
    expect(status.outbound).toBeUndefined();
    expect(status.inbound.secrets).toBeUndefined();
  });

  it("refuses every well-known local secret outside the local stack, and permits it inside", () => {
    const cases: Record<string, string> = {
      JWT_SECRET: WELL_KNOWN_LOCAL_SECRETS.JWT_SECRET,
      SUPABASE_SECRET_KEYS: JSON.stringify({ a: WELL_KNOWN_LOCAL_SECRETS.SUPABASE_SECRET_KEY }),
      DYNAMICS_CLIENT_SECRET: WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_CLIENT_SECRET,
      DYNAMICS_SIGNING_SECRET: WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_SIGNING_SECRET,
      DYNAMICS_INBOUND_SECRETS: `whsec_new,${WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_INBOUND_SECRET}`,
    };
    for (const [name, value] of Object.entries(cases)) {
      const refused = failure({ ...PRODUCTION, [name]: value });
      expect(refused?.variable, name).toBe(name);
      expect(refused?.message).toMatch(/well-known local value/);
      expect(refused?.message).not.toContain(value);
      expect(failure({ ...PRODUCTION, [name]: value, HLF_LOCAL_STACK: "true" }), name).toBeNull();
    }
  });

  it.each([
    ["DYNAMICS_WEBHOOK_URL", "http://hlf.crm4.dynamics.com/api/data/v9.2/hooks"],
    ["DYNAMICS_WEBHOOK_URL", "https://127.0.0.1:8443/hooks"],
    ["DYNAMICS_WEBHOOK_URL", "https://localhost/hooks"],
    ["DYNAMICS_TOKEN_URL", "http://127.0.0.1:54329/hlf-sandbox/oauth2/v2.0/token"],
    ["DYNAMICS_TOKEN_URL", "https://[::1]/token"],
  ])("refuses a loopback or plain-http %s (%s) unless rehearsals are permitted", (name, value) => {
    expect(failure({ ...PRODUCTION, [name]: value })?.variable).toBe(name);
    const rehearsal = loadConfig(
      { ...PRODUCTION, [name]: value, DYNAMICS_ALLOW_INSECURE_URL: "true" },
      ALL_NEEDS,
    );
    expect(rehearsal.warnings).toEqual([expect.stringContaining(name)]);
    expect(rehearsal.warnings.join()).not.toContain(value);
  });

  it("prefers DATABASE_URL (e.g. the pooler) over the injected SUPABASE_DB_URL", () => {
    const pooler = "postgres://postgres.abcd:pw@aws-0.pooler.supabase.com:6543/postgres";
    const c = loadConfig({ ...PRODUCTION, DATABASE_URL: pooler }, ["database"]);
    expect(c.database?.url).toBe(pooler);
  });

  it("reads Supabase's injected key and JWKS formats", () => {
    const jwk = { kty: "EC", crv: "P-256", x: "x", y: "y", kid: "k1" };
    const c = loadConfig({
      ...PRODUCTION,
      SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","ci":"sb_secret_b"}',
      SUPABASE_SERVICE_ROLE_KEY: "eyJhbGciOiJIUzI1NiJ9.e30.sig",
      SUPABASE_JWKS: JSON.stringify([jwk]),
    }, ["callers"]);
    expect(c.callers?.serviceKeys).toEqual([
      "sb_secret_a",
      "sb_secret_b",
      "eyJhbGciOiJIUzI1NiJ9.e30.sig",
    ]);
    expect(c.callers?.jwks).toEqual({ keys: [jwk] });
  });

  it("parses flags, numbers and secret lists", () => {
    const c = loadConfig({
      ...PRODUCTION,
      DYNAMICS_SYNC_ENABLED: "false",
      DYNAMICS_MAX_RETRIES: "7",
      DYNAMICS_INBOUND_SECRETS: " new-secret , old-secret ,",
      DYNAMICS_CIRCUIT_THRESHOLD: "0",
    }, ALL_NEEDS);
    expect(c.dynamics.enabled).toBe(false);
    expect(c.dynamics.retry.maxRetries).toBe(7);
    expect(c.inbound.secrets).toEqual(["new-secret", "old-secret"]);
    expect(c.dynamics.circuit).toBe(false);
  });

  it.each([
    ["DYNAMICS_MAX_RETRIES", "three"],
    ["DYNAMICS_SYNC_ENABLED", "maybe"],
    ["DATABASE_URL", "not a url"],
    ["JWT_SECRET", "too-short"],
    ["DYNAMICS_AUTH_MODE", "basic"],
    ["SYNC_BATCH_SIZE", "0"],
    ["DYNAMICS_INBOUND_SECRETS", " , "],
    ["SUPABASE_SECRET_KEYS", "sb_secret_not_json"],
    ["SUPABASE_JWKS", '{"no":"keys"}'],
  ])("fails fast naming %s when it is invalid", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(
      new RegExp(`^Invalid configuration: ${name} `),
    );
  });

  it("never echoes the value of a bad variable (it may be a secret)", () => {
    const leaked = "hunter2-should-not-appear";
    expect(() => loadConfig({ JWT_SECRET: leaked })).toThrowError(
      expect.objectContaining({ message: expect.not.stringContaining(leaked) }),
    );
  });

  it("requires the API key in apikey mode", () => {
    const apikey = { ...PRODUCTION, DYNAMICS_AUTH_MODE: "apikey" };
    expect(failure(apikey)?.variable).toBe("DYNAMICS_API_KEY");
    const c = loadConfig({ ...apikey, DYNAMICS_API_KEY: "k-123" }, ALL_NEEDS);
    expect(c.outbound?.auth).toEqual({ mode: "apikey", header: "x-api-key", key: "k-123" });
  });

  it("the local profile is complete but for the URLs the stack itself provides", () => {
    const local = {
      ...LOCAL_PROFILE,
      DATABASE_URL: "postgres://postgres@127.0.0.1:54322/postgres",
      SUPABASE_URL: "http://127.0.0.1:54321",
      DYNAMICS_WEBHOOK_URL: "http://127.0.0.1:54329/api/data/v9.2/hlf_certificationwebhooks",
      DYNAMICS_TOKEN_URL: "http://127.0.0.1:54329/hlf-sandbox/oauth2/v2.0/token",
    };
    const c = loadConfig(local, ALL_NEEDS);
    expect(c.local).toBe(true);
    expect(c.callers?.serviceKeys).toEqual([WELL_KNOWN_LOCAL_SECRETS.SUPABASE_SECRET_KEY]);
    expect(c.warnings).toHaveLength(2);
  });

  it("lists every variable in the committed .env.example", () => {
    const committed = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    expect(committed, "run `npm run env-example`").toBe(renderEnvExample());
    for (const v of [...VARIABLES, ...LOCAL_VARIABLES]) expect(committed).toContain(v.name);
  });

  it("treats an empty value as unset: a tunable gets its default, a secret is missing", () => {
    const c = loadConfig({
      ...PRODUCTION,
      DB_POOL_MAX: "",
      LOG_LEVEL: "",
      DYNAMICS_SYNC_ENABLED: "",
    }, [
      "database",
    ]);
    expect(c.database?.poolMax).toBe(DEFAULTS.DB_POOL_MAX);
    expect(c.logLevel).toBe(DEFAULTS.LOG_LEVEL);
    expect(c.dynamics.enabled).toBe(DEFAULTS.DYNAMICS_SYNC_ENABLED);
    expect(failure({ ...PRODUCTION, DYNAMICS_SIGNING_SECRET: "" })?.variable).toBe(
      "DYNAMICS_SIGNING_SECRET",
    );
    expect(localSettings({ GATEWAY_PORT: "", LOCAL_DATA_DIR: "" })).toEqual(localSettings({}));
  });

  it.each([
    ["DB_POOL_MAX", "4242424242"],
    ["DYNAMICS_AUTH_MODE", "basic-Zq81"],
    ["LOG_LEVEL", "verbose-Zq81"],
    ["DYNAMICS_CLIENT_SECRET", ""],
    ["SUPABASE_SECRET_KEYS", '{"default":""}'],
    ["SUPABASE_JWKS", '[{"kid":"no-kty-Zq81"}]'],
  ])("names %s when it is bad and never echoes its value", (name, value) => {
    const env = { ...PRODUCTION, [name]: value };
    const refused = failure(env);
    expect(refused?.variable).toBe(name);
    if (value !== "") expect(refused?.message).not.toContain(value);
    if (value !== "") expect(refused?.message).not.toContain("Zq81");
  });

  it("names the first bad variable in declaration order, with only its own reasons", () => {
    const refused = failure({ ...PRODUCTION, LOG_LEVEL: "loud", DB_POOL_MAX: "0" });
    expect(refused?.variable).toBe("DB_POOL_MAX");
    expect(refused?.message).not.toMatch(/LOG_LEVEL|expected one of/);
  });

  it("a local setting that is bad is named too", () => {
    expect(() => localSettings({ SANDBOX_PORT: "70000" })).toThrowError(
      /^Invalid configuration: SANDBOX_PORT /,
    );
  });

  it("every default, written out as .env.example writes it, reads back as itself", () => {
    const written = Object.fromEntries(
      renderEnvExample().split("\n").filter((line) => /^[A-Z_]+=/.test(line)).map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at), line.slice(at + 1)];
      }),
    );
    const tunables = [...VARIABLES, ...LOCAL_VARIABLES].filter((v) => v.default !== undefined);
    expect(Object.keys(written)).toEqual(tunables.map((v) => v.name));
    expect(loadConfig(written)).toEqual(loadConfig({}));
    expect(localSettings(written)).toEqual(localSettings({}));
  });

  it("types a defaulted variable without undefined, and a secret or URL as possibly undefined", () => {
    // Checked by `deno check` (npm run check), which rejects this file if either type changes.
    expectTypeOf(DEFAULTS.SYNC_BATCH_SIZE).toEqualTypeOf<number>();
    expectTypeOf(DEFAULTS.DYNAMICS_SYNC_ENABLED).toEqualTypeOf<boolean>();
    expectTypeOf(DEFAULTS.LOG_LEVEL).toEqualTypeOf<
      "debug" | "info" | "warn" | "error" | "silent"
    >();
    expectTypeOf(DEFAULTS.DYNAMICS_SIGNING_SECRET).toEqualTypeOf<string | undefined>();
    const batchSize: number = DEFAULTS.SYNC_BATCH_SIZE;
    // @ts-expect-error a secret has no default, so it may be undefined
    const secret: string = DEFAULTS.DYNAMICS_SIGNING_SECRET;
    expect(batchSize).toBeGreaterThan(0);
    expect(secret).toBeUndefined();
  });

  it("README quotes each default it mentions as declared", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const quoted = [...readme.replace(/\s+/g, " ").matchAll(/`([A-Z_]+)` \(default ([\d,]+)\)/g)];
    expect(quoted.length).toBeGreaterThan(3);
    const declared: Record<string, unknown> = DEFAULTS;
    for (const [, name, value] of quoted) {
      expect(Number(value.replaceAll(",", "")), name).toBe(declared[name]);
    }
  });
});
