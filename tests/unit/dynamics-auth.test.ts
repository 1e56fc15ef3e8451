import { describe, expect, it } from "vitest";
import {
  createAuthProvider,
  type DynamicsAuthOptions,
  parseTokenResponse,
} from "../../shared/dynamics/dynamics-auth.ts";
import { defaults, refreshSkewSeconds } from "../support/config-defaults.ts";
import { createFakeClock } from "../support/fake-clock.ts";
import { fakeFetch, hangUntilAborted, json, networkFailure } from "../support/fake-fetch.ts";

const { attemptTimeoutMs: timeoutMs } = defaults.dynamics;
const SECRET = "client-secret-Qw7pL0";
const OAUTH: Extract<DynamicsAuthOptions, { mode: "oauth2" }> = {
  mode: "oauth2",
  tokenUrl: "https://login.example/tenant-1/oauth2/v2.0/token",
  clientId: "client-1",
  clientSecret: SECRET,
  scope: "https://org.crm4.dynamics.com/.default",
  refreshSkewSeconds,
};

/** A token endpoint issuing tok-1, tok-2... with the given lifetime. */
function tokenEndpoint(expiresIn = 3600) {
  return fakeFetch((_, index) =>
    json({ token_type: "Bearer", expires_in: expiresIn, access_token: `tok-${index + 1}` })
  );
}

describe("apikey mode", () => {
  it("sends the configured header and cannot be refreshed", async () => {
    const auth = createAuthProvider({ mode: "apikey", header: "x-api-key", key: "key-123456" }, {
      timeoutMs,
    });
    expect(await auth.authorize()).toEqual({
      ok: true,
      headers: { "x-api-key": "key-123456" },
      credential: "key-123456",
    });
    expect(auth.invalidate("key-123456")).toBe(false);
    expect(auth.secrets()).toEqual(["key-123456"]);
  });
});

describe("oauth2 client credentials", () => {
  it("posts Entra's form fields and returns a bearer header", async () => {
    const fetch = tokenEndpoint();
    const auth = createAuthProvider(OAUTH, { fetch, timeoutMs });
    expect(await auth.authorize()).toEqual({
      ok: true,
      headers: { Authorization: "Bearer tok-1" },
      credential: "tok-1",
    });
    const [call] = fetch.calls;
    expect(call.url).toBe(OAUTH.tokenUrl);
    expect(call.method).toBe("POST");
    expect(call.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(call.body))).toEqual({
      grant_type: "client_credentials",
      client_id: "client-1",
      client_secret: SECRET,
      scope: OAUTH.scope,
    });
  });

  it("caches the token until the refresh skew before expiry", async () => {
    const clock = createFakeClock(0);
    const fetch = tokenEndpoint(3600);
    const auth = createAuthProvider({ ...OAUTH, refreshSkewSeconds: 120 }, {
      fetch,
      now: clock.now,
      timeoutMs,
    });
    await auth.authorize();
    clock.advance((3600 - 120) * 1000 - 1);
    expect(await auth.authorize()).toMatchObject({ credential: "tok-1" });
    clock.advance(1);
    expect(await auth.authorize()).toMatchObject({ credential: "tok-2" });
    expect(fetch.calls).toHaveLength(2);
  });

  it("clamps the skew to half the lifetime, so short-lived tokens are still reused", async () => {
    const clock = createFakeClock(0);
    const fetch = tokenEndpoint(60);
    const auth = createAuthProvider({ ...OAUTH, refreshSkewSeconds: 300 }, {
      fetch,
      now: clock.now,
      timeoutMs,
    });
    await auth.authorize();
    clock.advance(29_999);
    expect(await auth.authorize()).toMatchObject({ credential: "tok-1" });
    clock.advance(1);
    expect(await auth.authorize()).toMatchObject({ credential: "tok-2" });
  });

  it("shares one in-flight token request between concurrent callers", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = fakeFetch(async () => {
      await gate;
      return json({ token_type: "Bearer", expires_in: 3600, access_token: "tok-shared" });
    });
    const auth = createAuthProvider(OAUTH, { fetch, timeoutMs });
    const pending = Array.from({ length: 25 }, () => auth.authorize());
    release();
    const results = await Promise.all(pending);
    expect(fetch.calls).toHaveLength(1);
    expect(new Set(results.map((r) => r.ok && r.credential))).toEqual(new Set(["tok-shared"]));
  });

  it("drops a rejected token only if it is still the cached one", async () => {
    const fetch = tokenEndpoint();
    const auth = createAuthProvider(OAUTH, { fetch, timeoutMs });
    await auth.authorize();
    expect(auth.invalidate("some-older-token")).toBe(true);
    expect(await auth.authorize()).toMatchObject({ credential: "tok-1" });
    auth.invalidate("tok-1");
    expect(await auth.authorize()).toMatchObject({ credential: "tok-2" });
    expect(fetch.calls).toHaveLength(2);
  });

  it("reports Entra's error without the secret, and does not cache the failure", async () => {
    const fetch = fakeFetch((_, index) =>
      index === 0
        ? json(
          {
            error: "invalid_client",
            error_description:
              `AADSTS7000215: Invalid client secret provided: ${SECRET}\r\nTrace ID: 1`,
          },
          401,
        )
        : json({ token_type: "Bearer", expires_in: 3600, access_token: "tok-ok" })
    );
    const auth = createAuthProvider(OAUTH, { fetch, timeoutMs });
    const failed = await auth.authorize();
    expect(failed).toEqual({
      ok: false,
      error: {
        kind: "auth",
        code: "token_endpoint_error",
        status: 401,
        message:
          "token endpoint answered 401 invalid_client: AADSTS7000215: Invalid client secret provided: [redacted]",
      },
    });
    expect(await auth.authorize()).toMatchObject({ ok: true, credential: "tok-ok" });
  });

  it("reports an unreachable endpoint and a timeout with distinct codes", async () => {
    const down = createAuthProvider(OAUTH, {
      fetch: fakeFetch(() => {
        throw networkFailure("ECONNREFUSED");
      }),
      timeoutMs,
    });
    expect(await down.authorize()).toMatchObject({
      ok: false,
      error: { kind: "auth", code: "token_endpoint_unreachable" },
    });
    const slow = createAuthProvider(OAUTH, { fetch: fakeFetch(hangUntilAborted), timeoutMs: 20 });
    expect(await slow.authorize()).toMatchObject({
      ok: false,
      error: { kind: "auth", code: "token_endpoint_timeout" },
    });
  });

  it("remembers issued tokens as secrets to redact", async () => {
    const auth = createAuthProvider(OAUTH, { fetch: tokenEndpoint(), timeoutMs });
    await auth.authorize();
    expect(auth.secrets()).toEqual([SECRET, "tok-1"]);
  });
});

describe("parseTokenResponse", () => {
  it.each([
    ["no access_token", { token_type: "Bearer", expires_in: 60 }],
    ["empty access_token", { token_type: "Bearer", expires_in: 60, access_token: "" }],
    ["no expires_in", { token_type: "Bearer", access_token: "t" }],
    ["zero expires_in", { token_type: "Bearer", expires_in: 0, access_token: "t" }],
    ["not a bearer token", { token_type: "pop", expires_in: 60, access_token: "t" }],
  ])("rejects a 200 with %s", (_, body) => {
    expect(parseTokenResponse(200, JSON.stringify(body), [])).toMatchObject({
      ok: false,
      error: { kind: "auth", code: "token_response_invalid", status: 200 },
    });
  });

  it("accepts expires_in as a numeric string, as some servers send it", () => {
    const body = JSON.stringify({ token_type: "bearer", expires_in: "3599", access_token: "t" });
    expect(parseTokenResponse(200, body, [])).toEqual({
      ok: true,
      accessToken: "t",
      expiresInSeconds: 3599,
    });
  });

  it("describes a non-JSON failure by its status alone", () => {
    expect(parseTokenResponse(502, "<html>Bad Gateway</html>", [])).toMatchObject({
      ok: false,
      error: { code: "token_endpoint_error", status: 502, message: "token endpoint answered 502" },
    });
  });
});
