// Tokens an attacker could present: each is refused by a correct HS256 verifier with the project's
// secret. Built by hand (not with jose) where jose would refuse to produce them.
import { SignJWT } from "jose";
import { mintJwt } from "./tokens.ts";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

/** The same token with its payload replaced by `edit(claims)`, signature kept. */
function withEditedClaims(
  jwt: string,
  edit: (claims: Record<string, unknown>) => Record<string, unknown>,
): string {
  const [header, , signature] = jwt.split(".");
  return [header, b64url(edit(claimsOf(jwt))), signature].join(".");
}

export type ForgeryKind =
  | "wrong_secret"
  | "alg_none"
  | "expired"
  | "role_edited"
  | "sub_edited"
  | "hs512";

export const FORGERY_KINDS: readonly ForgeryKind[] = [
  "wrong_secret",
  "alg_none",
  "expired",
  "role_edited",
  "sub_edited",
  "hs512",
];

/**
 * A forged token of the given kind. `userJwt` is a genuine user token (signed with `secret`) that
 * the edits start from; the results claim the service role or another user.
 */
export async function forgeJwt(
  kind: ForgeryKind,
  o: { secret: string; userJwt: string; otherUserId: string },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  switch (kind) {
    case "wrong_secret":
      return await mintJwt(`${o.secret}-but-not-quite`, { role: "service_role" });
    case "alg_none":
      return `${b64url({ alg: "none", typ: "JWT" })}.${
        b64url({ role: "service_role", iat: now, exp: now + 3600 })
      }.`;
    case "expired":
      return await mintJwt(o.secret, {
        role: "service_role",
        nowSeconds: now - 7200,
        expiresInSeconds: 60,
      });
    case "role_edited":
      return withEditedClaims(o.userJwt, (c) => ({ ...c, role: "service_role" }));
    case "sub_edited":
      return withEditedClaims(o.userJwt, (c) => ({ ...c, sub: o.otherUserId }));
    case "hs512":
      return await new SignJWT({ role: "service_role" })
        .setProtectedHeader({ alg: "HS512", typ: "JWT" })
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(o.secret));
  }
}
