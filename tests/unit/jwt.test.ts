import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { bearerToken, mintJwt, verifyCaller } from "../../shared/jwt.ts";

const SECRET = "a-test-jwt-secret-with-at-least-32-characters";
const USER = "8f1c2a0e-4b7d-4e59-9a0b-3c1d2e3f4a5b";

describe("verifyCaller", () => {
  it("accepts a service_role token and an authenticated user's token", async () => {
    const svc = await verifyCaller(await mintJwt(SECRET, { role: "service_role" }), SECRET);
    expect(svc).toMatchObject({ ok: true, caller: { role: "service_role", userId: null } });
    const user = await verifyCaller(
      await mintJwt(SECRET, { role: "authenticated", sub: USER }),
      SECRET,
    );
    expect(user).toMatchObject({ ok: true, caller: { role: "authenticated", userId: USER } });
    expect(user.ok && user.caller.claims.sub).toBe(USER);
  });

  it("rejects a missing token, a wrong secret, an expired token and alg none", async () => {
    expect(await verifyCaller(null, SECRET)).toEqual({ ok: false, reason: "missing_token" });
    const other = await mintJwt("another-secret-that-is-also-long-enough!!", {
      role: "service_role",
    });
    expect(await verifyCaller(other, SECRET)).toEqual({ ok: false, reason: "invalid_token" });
    const old = await mintJwt(SECRET, {
      role: "service_role",
      nowSeconds: 1_000_000,
      expiresInSeconds: 60,
    });
    expect(await verifyCaller(old, SECRET)).toEqual({ ok: false, reason: "expired_token" });
    const none = new UnsecuredJWT({ role: "service_role" }).setIssuedAt().encode();
    expect(await verifyCaller(none, SECRET)).toEqual({ ok: false, reason: "invalid_token" });
  });

  it("rejects a token whose role claim was edited after signing", async () => {
    const token = await mintJwt(SECRET, { role: "authenticated", sub: USER });
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "service_role" })).toString(
      "base64url",
    );
    expect(await verifyCaller(`${h}.${forged}.${s}`, SECRET)).toEqual({
      ok: false,
      reason: "invalid_token",
    });
  });

  it("rejects unknown roles and authenticated tokens without a subject", async () => {
    const admin = await new SignJWT({ role: "supabase_admin" }).setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
    expect(await verifyCaller(admin, SECRET)).toEqual({ ok: false, reason: "unknown_role" });
    const noSub = await mintJwt(SECRET, { role: "authenticated" });
    expect(await verifyCaller(noSub, SECRET)).toEqual({ ok: false, reason: "invalid_token" });
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
