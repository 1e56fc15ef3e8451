// The local stand-in for Supabase Auth's signing keys: one ES256 key pair, kept in the data folder so
// the tokens `npm start` prints stay valid across restarts (in memory for tests). The gateway serves
// the public half at /auth/v1/.well-known/jwks.json, where the functions fetch it as on Supabase.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK, SignJWT } from "jose";
import type { CallerRole } from "../shared/http/jwt.ts";

export interface TokenOptions {
  role: CallerRole;
  sub?: string;
  email?: string;
  expiresInSeconds?: number;
  nowSeconds?: number;
  /** Claims to set or override (tests: a wrong `aud`, a missing `exp` is `{ exp: undefined }`). */
  claims?: Record<string, unknown>;
}

export interface LocalAuth {
  jwks: JSONWebKeySet;
  /** A token as Supabase Auth issues it: user tokens carry `aud` and `iss` as Supabase sets them. */
  mint(opts: TokenOptions): Promise<string>;
}

const ALG = "ES256";

/** Signs `opts` with `key` (ES256 here; HS256 with a legacy secret in tests). */
export function signToken(
  key: CryptoKey | Uint8Array,
  header: { alg: string; kid?: string },
  issuer: string,
  opts: TokenOptions,
): Promise<string> {
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const user = opts.role === "authenticated";
  const claims: Record<string, unknown> = {
    role: opts.role,
    iss: user ? issuer : "supabase",
    ...(user ? { aud: "authenticated" } : {}),
    ...(opts.sub ? { sub: opts.sub } : {}),
    ...(opts.email ? { email: opts.email } : {}),
    iat: now,
    exp: now + (opts.expiresInSeconds ?? 3600),
    ...opts.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ ...header, typ: "JWT" }).sign(key);
}

async function loadOrCreateKey(dataDir: string | undefined): Promise<JWK> {
  const file = dataDir === undefined ? undefined : join(dataDir, "auth-signing-key.json");
  if (file) {
    const stored = await readFile(file, "utf8").catch(() => undefined);
    if (stored) return JSON.parse(stored) as JWK;
  }
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = { ...await exportJWK(privateKey), alg: ALG, kid: `local-${crypto.randomUUID()}` };
  if (file) await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

/** `authUrl` is `${SUPABASE_URL}/auth/v1`, the issuer of user tokens. */
export async function createLocalAuth(
  authUrl: string,
  dataDir: string | undefined,
): Promise<LocalAuth> {
  const jwk = await loadOrCreateKey(dataDir);
  const { d: _private, ...publicJwk } = jwk;
  const key = await importJWK(jwk, ALG) as CryptoKey;
  return {
    jwks: { keys: [{ ...publicJwk, use: "sig" }] },
    mint: (opts) => signToken(key, { alg: ALG, kid: jwk.kid }, authUrl, opts),
  };
}
