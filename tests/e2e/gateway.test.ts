// The local gateway behaves like Supabase's: verify_jwt from supabase/config.toml, Authorization or
// apikey, CORS preflight without a JWT, unknown functions 404, and the function sees `/NAME/...`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintJwt } from "../support/tokens.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.close();
});

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${t.stack.functionsUrl}/${path}`, { method: "POST", body: "{}", ...init });

describe("functions gateway", () => {
  it.each(["certification-expired", "certification-renewed", "sync-retry", "sync-status"])(
    "%s (verify_jwt = true) answers 401 without a JWT and with a JWT signed by another secret",
    async (name) => {
      const missing = await call(name);
      expect(missing.status).toBe(401);
      expect((await missing.json()).error.code).toBe("missing_authorization");
      const forged = await mintJwt("some-other-secret-that-is-long-enough-too", {
        role: "service_role",
      });
      const bad = await call(name, { headers: { authorization: `Bearer ${forged}` } });
      expect(bad.status).toBe(401);
      expect((await bad.json()).error.code).toBe("invalid_jwt");
    },
  );

  it("lets dynamics-webhook (verify_jwt = false) through to its own signature check", async () => {
    const res = await call("dynamics-webhook", { headers: { "content-type": "application/json" } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("missing_signature");
  });

  it("accepts the JWT in the apikey header when there is no Authorization header", async () => {
    const res = await call("sync-retry", { headers: { apikey: t.stack.serviceRoleKey } });
    expect(res.status).toBe(200);
  });

  it("refuses a user JWT on service-only functions with 403 from the function", async () => {
    const user = await t.userJwt("7d4f1c2e-0a3b-4c5d-8e9f-0a1b2c3d4e5f");
    const res = await call("sync-retry", { headers: { authorization: `Bearer ${user}` } });
    expect(res.status).toBe(403);
  });

  it("answers unknown functions and paths with a JSON 404", async () => {
    const unknown = await call("no-such-function", {
      headers: { authorization: `Bearer ${t.stack.serviceRoleKey}` },
    });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("function_not_found");
    const subpath = await call("sync-retry/extra", {
      headers: { authorization: `Bearer ${t.stack.serviceRoleKey}` },
    });
    expect(subpath.status).toBe(404);
    expect((await subpath.json()).error.code).toBe("not_found");
  });

  it("passes CORS preflight through without a JWT", async () => {
    const res = await fetch(`${t.stack.functionsUrl}/certification-expired`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  // Runs after the requests above: Deno prints its legacy-abort warning once per process, when a
  // served request whose signal was read completes successfully.
  it("leaves Deno.serve's legacy request.signal warning off the gateway's output", async () => {
    const ok = await call("sync-retry", { headers: { apikey: t.stack.serviceRoleKey } });
    expect(ok.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.lines.filter((line) => line.includes("request.signal"))).toEqual([]);
  });
});
