// Verifies Supabase-style HS256 JWTs (the project's JWT secret) and classifies the caller by role.
// jose does the verification: it rejects `alg: none`, other algorithms, bad signatures and expired tokens.
import { errors, jwtVerify, SignJWT } from "jose";

export type CallerRole = "anon" | "authenticated" | "service_role";

export interface Caller {
  role: CallerRole;
  /** auth.uid(): the user id for `authenticated`, null otherwise. */
  userId: string | null;
  /** The verified claims, as PostgREST would put them in `request.jwt.claims`. */
  claims: Record<string, unknown>;
}

export type JwtFailure =
  | "missing_token"
  | "invalid_token"
  | "expired_token"
  | "unknown_role";

export type CallerResult = { ok: true; caller: Caller } | {
  ok: false;
  reason: JwtFailure;
};

const ROLES: readonly CallerRole[] = ["anon", "authenticated", "service_role"];

const keyCache = new Map<string, Uint8Array>();
function keyFor(secret: string): Uint8Array {
  let key = keyCache.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keyCache.set(secret, key);
  }
  return key;
}

/** The bearer token of a request: `Authorization: Bearer …`, else the `apikey` header (as Supabase). */
export function bearerToken(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1] : null;
  }
  return headers.get("apikey")?.trim() || null;
}

export async function verifyCaller(
  token: string | null,
  secret: string,
  nowSeconds?: number,
): Promise<CallerResult> {
  if (!token) return { ok: false, reason: "missing_token" };
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), {
      algorithms: ["HS256"],
      currentDate: nowSeconds === undefined ? undefined : new Date(nowSeconds * 1000),
    });
    const role = payload.role;
    if (typeof role !== "string" || !ROLES.includes(role as CallerRole)) {
      return { ok: false, reason: "unknown_role" };
    }
    const userId = role === "authenticated" && typeof payload.sub === "string" ? payload.sub : null;
    if (role === "authenticated" && !userId) {
      return { ok: false, reason: "invalid_token" };
    }
    return {
      ok: true,
      caller: { role: role as CallerRole, userId, claims: { ...payload } },
    };
  } catch (err) {
    return {
      ok: false,
      reason: err instanceof errors.JWTExpired ? "expired_token" : "invalid_token",
    };
  }
}

export interface MintOptions {
  role: CallerRole;
  sub?: string;
  email?: string;
  expiresInSeconds?: number;
  nowSeconds?: number;
}

/** Mints a token like Supabase Auth does (local stack, seed and tests). */
export function mintJwt(secret: string, opts: MintOptions): Promise<string> {
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    role: opts.role,
    iss: "supabase-local",
  };
  if (opts.email) claims.email = opts.email;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresInSeconds ?? 3600));
  if (opts.sub) jwt.setSubject(opts.sub);
  return jwt.sign(keyFor(secret));
}
