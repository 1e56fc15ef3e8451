import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CallerAuthConfig } from "../../shared/config.ts";
import { bearerToken, createCallerVerifier } from "../../shared/http/jwt.ts";
import { createLocalAuth } from "../../local/auth.ts";
import { mintJwt } from "../support/tokens.ts";

const SECRET = "a-test-jwt-secret-with-at-least-32-characters";
const USER = "8f1c2a0e-4b7d-4e59-9a0b-3c1d2e3f4a5b";
const AUTH_URL = "https://abcd.supabase.co/auth/v1";
const SECRET_KEY = "sb_secret_test_service_key_value";
const LEGACY_SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.legacy-signature";

const auth = await createLocalAuth(AUTH_URL, undefined);

function config(over: Partial<CallerAuthConfig> = {}): CallerAuthConfig {
  return {
    authUrl: AUTH_URL,
    jwks: auth.jwks,
    jwksTimeoutMs: 1000,
    jwksCacheSeconds: 600,
    jwtSecret: undefined,
    serviceKeys: [SECRET_KEY, LEGACY_SERVICE_KEY],
    ...over,
  };
}

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });
const verify = (token: string, over: Partial<CallerAuthConfig> = {}) =>
  createCallerVerifier(config(over)).verify(bearer(token));
const user = (claims: Record<string, unknown> = {}) =>
  auth.mint({ role: "authenticated", sub: USER, claims });

describe("caller verification: user JWTs against the JWKS", () => {
  it("accepts an ES256 user token as Supabase Auth issues it", async () => {
    const result = await verify(await user());
    expect(result).toMatchObject({ ok: true, caller: { role: "authenticated", userId: USER } });
    expect(result.ok && result.caller.claims.aud).toBe("authenticated");
  });

  it("fetches the JWKS from SUPABASE_URL/auth/v1/.well-known/jwks.json when none is inline", async () => {
    const fetched: string[] = [];
    const fetchJwks = ((url: string | URL | Request) => {
      fetched.push(String(url));
      return Promise.resolve(Response.json(auth.jwks));
    }) as typeof fetch;
    const verifier = createCallerVerifier(config({ jwks: undefined }), { fetch: fetchJwks });
    expect((await verifier.verify(bearer(await user()))).ok).toBe(true);
    expect((await verifier.verify(bearer(await user()))).ok).toBe(true);
    expect(fetched).toEqual([`${AUTH_URL}/.well-known/jwks.json`]);
  });

  it("answers auth_unavailable (503, not 401) when the JWKS cannot be fetched", async () => {
    const down = (() => Promise.reject(new TypeError("fetch failed"))) as typeof fetch;
    const verifier = createCallerVerifier(config({ jwks: undefined }), { fetch: down });
    expect(await verifier.verify(bearer(await user()))).toEqual({
      ok: false,
      reason: "auth_unavailable",
    });
  });

  it.each([
    ["no exp", { exp: undefined }, "invalid_token"],
    ["a wrong aud", { aud: "some-other-api" }, "invalid_token"],
    ["a wrong iss", { iss: "https://evil.example/auth/v1" }, "invalid_token"],
    ["a non-UUID sub", { sub: "not-a-uuid" }, "invalid_token"],
    ["a numeric sub", { sub: 42 }, "invalid_token"],
    ["a non-string role", { role: ["service_role"] }, "unknown_role"],
    ["an unknown role", { role: "supabase_admin" }, "unknown_role"],
    ["a non-numeric exp", { exp: "tomorrow" }, "invalid_token"],
  ])("refuses a validly signed token with %s", async (_, claims, reason) => {
    expect(await verify(await user(claims))).toEqual({ ok: false, reason });
  });

  it("refuses an expired token", async () => {
    const old = await auth.mint({ role: "authenticated", sub: USER, nowSeconds: 1_000_000 });
    expect(await verify(old)).toEqual({ ok: false, reason: "expired_token" });
  });

  it("refuses a key not in the JWKS, alg none and an edited token", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const stranger = await new SignJWT({ role: "service_role" })
      .setProtectedHeader({ alg: "ES256", kid: auth.jwks.keys[0].kid })
      .setExpirationTime("1h").sign(privateKey);
    expect(await verify(stranger)).toEqual({ ok: false, reason: "invalid_token" });
    const none = new UnsecuredJWT({ role: "service_role" }).setExpirationTime("1h").encode();
    expect(await verify(none)).toEqual({ ok: false, reason: "invalid_token" });
    const [h, p, s] = (await user()).split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const edited = Buffer.from(JSON.stringify({ ...claims, role: "service_role" })).toString(
      "base64url",
    );
    expect(await verify(`${h}.${edited}.${s}`)).toEqual({ ok: false, reason: "invalid_token" });
  });
});

describe("caller verification: verified tokens kept per process", () => {
  // A JWKS served by a fake Auth whose keys the test can withdraw, and a clock the test moves: jose
  // trusts a fetched JWKS for jwksCacheSeconds by Date.now(), so Date is faked too.
  function withdrawableKeys() {
    let served: typeof auth.jwks | "down" = auth.jwks;
    let fetches = 0;
    const fetchJwks = (() => {
      fetches++;
      return served === "down"
        ? Promise.reject(new TypeError("fetch failed"))
        : Promise.resolve(Response.json(served));
    }) as typeof fetch;
    const verifier = createCallerVerifier(config({ jwks: undefined, jwksCacheSeconds: 1 }), {
      fetch: fetchJwks,
    });
    return {
      verifier,
      withdraw: () => (served = { keys: [] }),
      down: () => (served = "down"),
      up: () => (served = auth.jwks),
      fetches: () => fetches,
    };
  }
  const later = (seconds: number) => vi.advanceTimersByTime(seconds * 1000);
  beforeEach(() => void vi.useFakeTimers({ toFake: ["Date"] }));
  afterEach(() => void vi.useRealTimers());

  it("accepts a token it verified within the minute without checking it again, then checks it", async () => {
    const keys = withdrawableKeys();
    const token = await user();
    expect((await keys.verifier.verify(bearer(token))).ok).toBe(true);
    keys.withdraw();
    later(30); // the JWKS cache (1 s) is stale, the verified token is not
    expect(await keys.verifier.verify(bearer(token))).toMatchObject({
      ok: true,
      caller: { role: "authenticated", userId: USER },
    });
    expect(keys.fetches()).toBe(1);
    later(31); // a minute after its verification the token is checked again: its key is gone
    expect(await keys.verifier.verify(bearer(token))).toEqual({
      ok: false,
      reason: "invalid_token",
    });
    expect(keys.fetches()).toBe(2);
  });

  it("refuses a kept token once it expires", async () => {
    const keys = withdrawableKeys();
    const token = await auth.mint({ role: "authenticated", sub: USER, expiresInSeconds: 10 });
    expect((await keys.verifier.verify(bearer(token))).ok).toBe(true);
    later(11);
    expect(await keys.verifier.verify(bearer(token))).toEqual({
      ok: false,
      reason: "expired_token",
    });
  });

  it("keeps no refusal, and at most 1,000 tokens, the oldest leaving first", async () => {
    const keys = withdrawableKeys();
    const first = await user();
    keys.down();
    expect(await keys.verifier.verify(bearer(first))).toEqual({
      ok: false,
      reason: "auth_unavailable",
    });
    keys.up();
    expect((await keys.verifier.verify(bearer(first))).ok).toBe(true);
    const fetchesBefore = keys.fetches();
    const tokens = await Promise.all(
      Array.from({ length: 1001 }, (_, i) => user({ session_id: `s${i}` })),
    );
    for (const token of tokens) expect((await keys.verifier.verify(bearer(token))).ok).toBe(true);
    keys.withdraw();
    later(2); // the JWKS must be fetched again for any token checked from here on
    expect((await keys.verifier.verify(bearer(tokens[1000]))).ok).toBe(true);
    expect((await keys.verifier.verify(bearer(tokens[1]))).ok).toBe(true);
    expect(keys.fetches()).toBe(fetchesBefore);
    expect(await keys.verifier.verify(bearer(tokens[0]))).toEqual({
      ok: false,
      reason: "invalid_token",
    });
  });
});

describe("caller verification: legacy HS256", () => {
  it("accepts HS256 only where the legacy secret is configured", async () => {
    const token = await mintJwt(SECRET, { role: "authenticated", sub: USER, issuer: AUTH_URL });
    expect(await verify(token)).toEqual({ ok: false, reason: "invalid_token" });
    expect(await verify(token, { jwtSecret: SECRET })).toMatchObject({
      ok: true,
      caller: { role: "authenticated", userId: USER },
    });
    const service = await mintJwt(SECRET, { role: "service_role" });
    expect(await verify(service, { jwtSecret: SECRET })).toMatchObject({
      ok: true,
      caller: { role: "service_role", userId: null },
    });
  });

  it("refuses another secret, HS512 and a symmetric token claiming a JWKS key id", async () => {
    const other = await mintJwt("another-secret-that-is-also-long-enough!!", {
      role: "service_role",
    });
    expect(await verify(other, { jwtSecret: SECRET })).toEqual({
      ok: false,
      reason: "invalid_token",
    });
    const hs512 = await new SignJWT({ role: "service_role" }).setProtectedHeader({ alg: "HS512" })
      .setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
    expect(await verify(hs512, { jwtSecret: SECRET })).toEqual({
      ok: false,
      reason: "invalid_token",
    });
    // The public JWK used as an HMAC secret (the classic key-confusion forgery).
    const confused = await new SignJWT({ role: "service_role" })
      .setProtectedHeader({ alg: "HS256", kid: auth.jwks.keys[0].kid })
      .setExpirationTime("1h").sign(new TextEncoder().encode(JSON.stringify(auth.jwks.keys[0])));
    expect(await verify(confused)).toEqual({ ok: false, reason: "invalid_token" });
  });
});

describe("caller verification: service keys", () => {
  it("accepts a secret API key in apikey or Authorization, and the legacy service-role key", async () => {
    const verifier = createCallerVerifier(config());
    for (
      const headers of [
        new Headers({ apikey: SECRET_KEY }),
        bearer(SECRET_KEY),
        new Headers({ apikey: SECRET_KEY, authorization: `Bearer ${await user()}` }),
        bearer(LEGACY_SERVICE_KEY),
      ]
    ) {
      expect(await verifier.verify(headers)).toMatchObject({
        ok: true,
        caller: { role: "service_role", userId: null },
      });
    }
  });

  it("refuses a publishable key, an unknown secret key and a near miss", async () => {
    const verifier = createCallerVerifier(config());
    for (
      const key of [
        "sb_publishable_abc123",
        "sb_secret_someone_elses",
        `${SECRET_KEY}x`,
        SECRET_KEY.slice(0, -1),
      ]
    ) {
      expect(await verifier.verify(new Headers({ apikey: key })), key).toEqual({
        ok: false,
        reason: "invalid_token",
      });
    }
    expect(await verifier.verify(new Headers())).toEqual({ ok: false, reason: "missing_token" });
  });
});

describe("caller verification: service keys, hashed once", () => {
  let digest: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    digest = vi.spyOn(crypto.subtle, "digest");
  });
  afterEach(() => digest.mockRestore());

  it("hashes the keys once per process and a presented key once per request", async () => {
    const verifier = createCallerVerifier(config());
    for (let i = 0; i < 3; i++) {
      expect((await verifier.verify(new Headers({ apikey: SECRET_KEY }))).ok).toBe(true);
    }
    // Two keys once, then the presented key on each of three requests.
    expect(digest).toHaveBeenCalledTimes(2 + 3);
  });

  it("does not hash a user's JWT when no service key is a JWT, and still accepts it", async () => {
    const verifier = createCallerVerifier(config({ serviceKeys: [SECRET_KEY] }));
    const token = await user();
    expect(await verifier.verify(bearer(token))).toMatchObject({
      ok: true,
      caller: { role: "authenticated", userId: USER },
    });
    expect(await verifier.verify(bearer(LEGACY_SERVICE_KEY))).toEqual({
      ok: false,
      reason: "invalid_token",
    });
    expect(digest).not.toHaveBeenCalled();
    // An opaque key is still checked against the opaque keys.
    expect((await verifier.verify(new Headers({ apikey: SECRET_KEY }))).ok).toBe(true);
    expect(digest).toHaveBeenCalledTimes(2);
  });
});

describe("bearerToken", () => {
  it("reads Authorization: Bearer, falls back to apikey, and refuses other schemes", () => {
    expect(bearerToken(new Headers({ authorization: "Bearer abc.def.ghi" }))).toBe("abc.def.ghi");
    expect(bearerToken(new Headers({ apikey: "k.e.y" }))).toBe("k.e.y");
    expect(bearerToken(new Headers({ authorization: "Basic dXNlcjpwdw==" }))).toBeNull();
    expect(bearerToken(new Headers())).toBeNull();
  });
});
