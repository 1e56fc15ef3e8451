// What a function reaches of its own Supabase project besides the database: the Auth server's JWKS
// at `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`, here on loopback, with the ES256 key that
// signs the test users' tokens (as a project on JWT signing keys signs its users' sessions).
import { once } from "node:events";
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export interface ProjectStandIn {
  /** SUPABASE_URL of the project. */
  url: string;
  /** A user's access token as Supabase Auth issues it (ES256, aud authenticated, iss .../auth/v1). */
  userToken(userId: string, overrides?: { audience?: string }): Promise<string>;
  /** How many times the JWKS was fetched (a function caches it). */
  jwksRequests(): number;
  close(): Promise<void>;
}

export async function startProjectStandIn(): Promise<ProjectStandIn> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = crypto.randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  let fetched = 0;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/auth/v1/.well-known/jwks.json") {
      fetched++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    userToken: (userId, overrides = {}) =>
      new SignJWT({ role: "authenticated" })
        .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
        .setSubject(userId)
        .setAudience(overrides.audience ?? "authenticated")
        .setIssuer(`${url}/auth/v1`)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
    jwksRequests: () => fetched,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
