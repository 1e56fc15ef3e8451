// The local profile: what the local stack and the tests run with. Production config
// (shared/config.ts) has no default for any secret or Dynamics URL; here the published local values
// are supplied explicitly, with HLF_LOCAL_STACK=true (which permits them) and
// DYNAMICS_ALLOW_INSECURE_URL=true (the sandbox is plain http on loopback). Also the settings that
// only the local stack has: ports, the embedded database's data folder, the local signing keys.
import { z } from "zod";
import { describeVariables, type Env, int, parseVariables } from "../shared/config.ts";
import { WELL_KNOWN_LOCAL_SECRETS as PUBLISHED } from "../shared/well-known-secrets.ts";

/** Every value is published in the README; anything set in the environment wins. */
export const LOCAL_PROFILE = {
  HLF_LOCAL_STACK: "true",
  DYNAMICS_ALLOW_INSECURE_URL: "true",
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: PUBLISHED.SUPABASE_SECRET_KEY }),
  DYNAMICS_CLIENT_ID: "hlf-sync-local",
  DYNAMICS_CLIENT_SECRET: PUBLISHED.DYNAMICS_CLIENT_SECRET,
  DYNAMICS_SCOPE: "api://hlf-dynamics-sandbox/.default",
  DYNAMICS_SIGNING_SECRET: PUBLISHED.DYNAMICS_SIGNING_SECRET,
  DYNAMICS_INBOUND_SECRETS: PUBLISHED.DYNAMICS_INBOUND_SECRET,
} as const;

/** `env` over the local profile (empty values count as unset, as in shared/config.ts). */
export function withLocalProfile(env: Env): Record<string, string | undefined> {
  const set = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  return { ...LOCAL_PROFILE, ...set };
}

const port = int(0, 65535);
const localVariables = z.object({
  GATEWAY_PORT: port.default(54321).describe("Local functions gateway port (0 = any free port)."),
  DB_PORT: port.default(54322).describe(
    "Local embedded Postgres (PGlite) wire-protocol port (0 = any free port).",
  ),
  SANDBOX_PORT: port.default(54329).describe("Local Dynamics sandbox port (0 = any free port)."),
  GATEWAY_BODY_TIMEOUT_MS: int(100, 600_000).default(30_000).describe(
    "Local gateway: a request body not fully received this many ms after the headers answers 408.",
  ),
  LOCAL_DATA_DIR: z.string().min(1).default(".local-data").describe(
    "Where the embedded PGlite and the local signing key are kept (git-ignored).",
  ),
  LOCAL_AUTH_JWKS: z.string().min(1).optional().describe(
    "Set by the stack: the public JWKS the local gateway serves at /auth/v1/.well-known/jwks.json.",
  ),
});

/** The local-only variables, for `.env.example`. */
export const LOCAL_VARIABLES = describeVariables(localVariables);

export interface LocalSettings {
  ports: { gateway: number; database: number; sandbox: number };
  dataDir: string;
  /** The gateway cuts off a request body still arriving this long after the headers. */
  gatewayBodyTimeoutMs: number;
  /** The JWKS the gateway serves (JSON), when the stack started it. */
  authJwks: string | undefined;
}

export function localSettings(env: Env): LocalSettings {
  const v = parseVariables(localVariables, env);
  return {
    ports: { gateway: v.GATEWAY_PORT, database: v.DB_PORT, sandbox: v.SANDBOX_PORT },
    dataDir: v.LOCAL_DATA_DIR,
    gatewayBodyTimeoutMs: v.GATEWAY_BODY_TIMEOUT_MS,
    authJwks: v.LOCAL_AUTH_JWKS,
  };
}

/** The ports when none is set (GATEWAY_PORT, DB_PORT, SANDBOX_PORT's defaults). */
export const LOCAL_PORTS = localSettings({}).ports;
