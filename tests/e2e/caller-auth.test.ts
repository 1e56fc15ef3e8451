// Supabase's keys as they are today, end to end through the gateway with the functions under Deno:
// user tokens signed ES256 by the stack's key and verified against the JWKS the gateway serves at
// /auth/v1/.well-known/jwks.json (fetched by the functions, as from Supabase Auth), HS256 tokens
// where the legacy JWT_SECRET is configured, and service callers with a secret API key.
import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WELL_KNOWN_LOCAL_SECRETS } from "../../shared/well-known-secrets.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;
let coordinatorId: string;
let mentorId: string;

beforeAll(async () => {
  t = await startTestStack();
  const org = await createOrganisation(t.db.sql);
  const chapter = await createChapter(t.db.sql, { organisationId: org.id });
  coordinatorId = (await createCoordinator(t.db.sql, [chapter.id])).id;
  mentorId = (await createListedMentor(t.db.sql, { chapterIds: [chapter.id] })).mentorId;
});
afterAll(async () => {
  await t?.close();
});

const status = (headers: Record<string, string>) =>
  fetch(`${t.stack.functionsUrl}/sync-status?mentorId=${mentorId}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asUser = (claims: Record<string, unknown> = {}) =>
  t.stack.mintJwt({ role: "authenticated", sub: coordinatorId, claims });

describe("user JWTs", () => {
  it("the gateway serves the stack's public key as a JWKS, without the private part", async () => {
    const res = await fetch(`${t.stack.gatewayUrl}/auth/v1/.well-known/jwks.json`);
    const jwks = await res.json();
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: "EC", crv: "P-256", alg: "ES256", kid: expect.any(String) }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("sync-status answers 200 to an ES256 user token verified via the JWKS", async () => {
    const token = await asUser();
    expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).alg).toBe("ES256");
    const res = await status(bearer(token));
    expect(res.status).toBe(200);
    expect((await res.json()).mentorId).toBe(mentorId);
  });

  it("sync-status answers 200 to an HS256 user token signed with the configured legacy secret", async () => {
    const res = await status(
      bearer(await t.legacyJwt({ role: "authenticated", sub: coordinatorId })),
    );
    expect(res.status).toBe(200);
  });

  it.each([
    ["no exp", { exp: undefined }],
    ["a wrong aud", { aud: "not-authenticated" }],
    ["another issuer", { iss: "https://other.supabase.co/auth/v1" }],
    ["a non-UUID sub", { sub: "coordinator-1" }],
  ])("sync-status answers 401 (never 500) to a validly signed token with %s", async (_, claims) => {
    const res = await status(bearer(await asUser(claims)));
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toMatch(/^invalid_(jwt|token)$/);
  });

  it("answers 401 to a key not in the JWKS and to alg none", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const kid = (await (await fetch(`${t.stack.gatewayUrl}/auth/v1/.well-known/jwks.json`)).json())
      .keys[0].kid;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      role: "authenticated",
      sub: coordinatorId,
      aud: "authenticated",
      iss: `${t.stack.gatewayUrl}/auth/v1`,
    };
    for (const header of [{ alg: "ES256", kid }, { alg: "ES256", kid: "someone-elses-key" }]) {
      const stranger = await new SignJWT(claims).setProtectedHeader(header).setIssuedAt(now)
        .setExpirationTime(now + 3600).sign(privateKey);
      expect((await status(bearer(stranger))).status).toBe(401);
    }
    const none = new UnsecuredJWT(claims).setExpirationTime("1h").encode();
    expect((await status(bearer(none))).status).toBe(401);
  });
});

describe("service callers", () => {
  it.each(["certification-renewed", "sync-retry"])(
    "%s accepts the secret API key in apikey and refuses a publishable key",
    async (name) => {
      const call = (headers: Record<string, string>) =>
        fetch(`${t.stack.functionsUrl}/${name}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: name === "sync-retry" ? "{}" : JSON.stringify({ mentorId }),
        });
      expect(t.stack.secretKey).toBe(WELL_KNOWN_LOCAL_SECRETS.SUPABASE_SECRET_KEY);
      expect((await call({ apikey: t.stack.secretKey })).status).toBe(200);
      const publishable = await call({ apikey: "sb_publishable_hlf_local_browser_key" });
      expect(publishable.status).toBe(401);
      const forged = await call({ apikey: `${t.stack.secretKey}-not` });
      expect(forged.status).toBe(401);
    },
  );

  it("a user token is no service caller (403 from the function)", async () => {
    const res = await fetch(`${t.stack.functionsUrl}/sync-retry`, {
      method: "POST",
      headers: { ...bearer(await asUser()), "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
  });
});
