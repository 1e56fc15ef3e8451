// HS256 tokens signed with a legacy JWT secret, as Supabase signed them before asymmetric keys (the
// path the functions keep while JWT_SECRET is configured). ES256 tokens come from the stack's key.
import { signToken, type TokenOptions } from "../../local/auth.ts";

export function mintJwt(
  secret: string,
  opts: TokenOptions & { issuer?: string },
): Promise<string> {
  return signToken(new TextEncoder().encode(secret), { alg: "HS256" }, opts.issuer ?? "", opts);
}
