import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, LOCAL_JWT_SECRET, VARIABLES } from "../../shared/config.ts";
import { renderEnvExample } from "../../tools/env-example.ts";

describe("config", () => {
  it("gives the local defaults with an empty environment", () => {
    const c = loadConfig({});
    expect(c.database.url).toBeUndefined();
    expect(c.supabase.jwtSecret).toBe(LOCAL_JWT_SECRET);
    expect(c.ports).toEqual({ gateway: 54321, database: 54322, sandbox: 54329 });
    expect(c.dynamics.enabled).toBe(true);
    expect(c.dynamics.auth.mode).toBe("oauth2");
    expect(c.dynamics.inboundSecrets).toEqual(["local-inbound-signing-secret"]);
  });

  it("prefers SUPABASE_DB_URL over DATABASE_URL and JWT_SECRET over SUPABASE_JWT_SECRET", () => {
    const c = loadConfig({
      SUPABASE_DB_URL: "postgres://a@db.example:5432/postgres",
      DATABASE_URL: "postgres://b@127.0.0.1:5432/postgres",
      JWT_SECRET: "j".repeat(40),
      SUPABASE_JWT_SECRET: "s".repeat(40),
    });
    expect(c.database.url).toBe("postgres://a@db.example:5432/postgres");
    expect(c.supabase.jwtSecret).toBe("j".repeat(40));
  });

  it("parses flags, numbers and secret lists", () => {
    const c = loadConfig({
      DYNAMICS_SYNC_ENABLED: "false",
      DYNAMICS_MAX_RETRIES: "7",
      DYNAMICS_INBOUND_SECRETS: " new-secret , old-secret ,",
      DYNAMICS_CIRCUIT_THRESHOLD: "0",
    });
    expect(c.dynamics.enabled).toBe(false);
    expect(c.dynamics.retry.maxRetries).toBe(7);
    expect(c.dynamics.inboundSecrets).toEqual(["new-secret", "old-secret"]);
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
    expect(() => loadConfig({ DYNAMICS_AUTH_MODE: "apikey" })).toThrowError(
      /DYNAMICS_API_KEY is required/,
    );
    const c = loadConfig({ DYNAMICS_AUTH_MODE: "apikey", DYNAMICS_API_KEY: "k-123" });
    expect(c.dynamics.auth).toEqual({ mode: "apikey", header: "x-api-key", key: "k-123" });
  });

  it("lists every variable in the committed .env.example", () => {
    const committed = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    expect(committed, "run `npm run env-example`").toBe(renderEnvExample());
    for (const v of VARIABLES) expect(committed).toContain(v.name);
  });
});
