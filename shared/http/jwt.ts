// Who is calling: Supabase user JWTs verified with jose against the project's JWKS (ES256/RS256 as
// Supabase signs them today), HS256 only where the legacy JWT secret is configured, and service
// callers by an opaque key (a secret API key `sb_secret_…` or the legacy service-role JWT) compared
// in constant time. jose rejects `alg: none`, algorithms not listed, unknown keys, bad signatures and
// expired tokens; the claims it cannot know about (role, sub, aud, iss) are checked here, and any
// malformed claim is a refusal, never an exception.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import type { CallerAuthConfig } from "../config.ts";
import { timingSafeEqual } from "../contract/signer.ts";
import { Uuid } from "../contract/validation.ts";

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
  | "unknown_role"
  /** The project's JWKS could not be fetched: not the caller's fault (503). */
  | "auth_unavailable";

export type CallerResult = { ok: true; caller: Caller } | { ok: false; reason: JwtFailure };

export interface CallerVerifier {
  verify(headers: Headers): Promise<CallerResult>;
}

const ROLES: readonly CallerRole[] = ["anon", "authenticated", "service_role"];
/** What Supabase Auth signs with today (asymmetric signing keys). */
const ASYMMETRIC = ["ES256", "RS256", "EdDSA"];
/** Supabase's audience claim on user tokens. */
const USER_AUDIENCE = "authenticated";

/** The bearer token of a request: `Authorization: Bearer …`, else the `apikey` header (as Supabase). */
export function bearerToken(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1] : null;
  }
  return headers.get("apikey")?.trim() || null;
}

/** A JWT has three dot-separated parts; Supabase's API keys (`sb_…`) are opaque. */
const looksLikeJwt = (token: string) => token.split(".").length === 3;

const encoder = new TextEncoder();
const digest = async (value: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));

/**
 * Whether a presented key is one of the service keys: constant time over equal-length digests, so
 * neither content nor length leaks. The keys' digests are taken once per process, and a candidate
 * whose shape (JWT or opaque) no key has is refused without hashing: that depends on the shapes
 * alone, which Supabase's key formats make public. Every `crypto.subtle.digest` is a hand-off to a
 * worker thread; hashing the keys again on every request, and a user's JWT against opaque keys,
 * was about 7 % of sync-status's CPU samples under load (V8 profile, bench scenario 5).
 */
function serviceKeyMatcher(keys: readonly string[]): (candidate: string) => Promise<boolean> {
  const shapes = new Set(keys.map(looksLikeJwt));
  let keyDigests: Promise<Uint8Array[]> | undefined;
  return async (candidate) => {
    if (!shapes.has(looksLikeJwt(candidate))) return false;
    keyDigests ??= Promise.all(keys.map(digest));
    const mine = await digest(candidate);
    let found = false;
    for (const key of await keyDigests) found = timingSafeEqual(mine, key) || found;
    return found;
  };
}

const refuse = (reason: JwtFailure): CallerResult => ({ ok: false, reason });
const SERVICE: CallerResult = {
  ok: true,
  caller: { role: "service_role", userId: null, claims: { role: "service_role" } },
};

/** Claims jose verified cryptographically but cannot judge: role, and for users sub, aud and iss. */
function callerFrom(payload: JWTPayload, issuer: string): CallerResult {
  const role = payload.role;
  if (typeof role !== "string" || !ROLES.includes(role as CallerRole)) {
    return refuse("unknown_role");
  }
  if (role !== "authenticated") {
    return { ok: true, caller: { role: role as CallerRole, userId: null, claims: { ...payload } } };
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const sub = Uuid.safeParse(payload.sub);
  if (!sub.success || !aud.includes(USER_AUDIENCE) || payload.iss !== issuer) {
    return refuse("invalid_token");
  }
  return { ok: true, caller: { role: "authenticated", userId: sub.data, claims: { ...payload } } };
}

// A verified token's caller is kept per process, so the dashboard and the app, which send the same
// token request after request, pay one ES256 verification (about 0.65 ms of CPU, most of a status
// read's: BENCHMARKS.md, scenario 5) per token and minute instead of one per request. An entry ends
// at the token's `exp` or after a minute, whichever is first: a minute is how much longer than a
// fresh token a token can be accepted after its signing key leaves the JWKS. Only acceptances are
// kept, and never more than MAX_VERIFIED (the oldest goes first).
const VERIFIED_FOR_SECONDS = 60;
const MAX_VERIFIED = 1000;

export interface CallerVerifierDeps {
  fetch?: typeof fetch;
  /** Seconds since the epoch (tests). */
  nowSeconds?: () => number;
}

export function createCallerVerifier(
  config: CallerAuthConfig,
  deps: CallerVerifierDeps = {},
): CallerVerifier {
  const jwks: JWTVerifyGetKey = config.jwks
    ? createLocalJWKSet(config.jwks)
    : createRemoteJWKSet(new URL(`${config.authUrl}/.well-known/jwks.json`), {
      timeoutDuration: config.jwksTimeoutMs,
      cacheMaxAge: config.jwksCacheSeconds * 1000,
      ...(deps.fetch ? { [customFetch]: deps.fetch } : {}),
    });
  const hs256 = config.jwtSecret === undefined ? undefined : encoder.encode(config.jwtSecret);
  const getKey: JWTVerifyGetKey = (header, token) =>
    header.alg === "HS256" && hs256 ? hs256 : jwks(header, token);
  const algorithms = hs256 ? [...ASYMMETRIC, "HS256"] : ASYMMETRIC;

  const isServiceKey = serviceKeyMatcher(config.serviceKeys);
  const nowSeconds = deps.nowSeconds ?? (() => Date.now() / 1000);
  const verified = new Map<string, { result: CallerResult; until: number }>();

  async function verifyJwt(token: string): Promise<CallerResult> {
    const now = nowSeconds();
    const known = verified.get(token);
    if (known && now < known.until) return known.result;
    verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms,
        requiredClaims: ["exp"],
        currentDate: new Date(now * 1000),
      });
      const result = callerFrom(payload, config.authUrl);
      if (result.ok) {
        if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
        verified.set(token, { result, until: Math.min(payload.exp!, now + VERIFIED_FOR_SECONDS) });
      }
      return result;
    } catch (err) {
      if (err instanceof errors.JWTExpired) return refuse("expired_token");
      if (err instanceof errors.JWKSTimeout || err instanceof TypeError) {
        return refuse("auth_unavailable");
      }
      return refuse("invalid_token");
    }
  }

  return {
    async verify(headers) {
      const token = bearerToken(headers);
      // A service caller's key may come in either header (pg_net sends only `apikey`).
      for (const candidate of new Set([headers.get("apikey")?.trim(), token])) {
        if (candidate && await isServiceKey(candidate)) return SERVICE;
      }
      if (!token) return refuse("missing_token");
      // An opaque key that matched nothing (a publishable key, say) is no caller of ours.
      return looksLikeJwt(token) ? verifyJwt(token) : refuse("invalid_token");
    },
  };
}
