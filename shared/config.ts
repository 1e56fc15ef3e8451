// The one place that reads the environment. Every variable is declared here, validated once with zod,
// and turned into a typed Config; an invalid value fails fast with an error naming the variable
// (never echoing its value: several are secrets).
import { z } from "zod";
import type { DynamicsAuthOptions } from "./dynamics-auth.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** Supabase's well-known local JWT secret (the CLI's default); real projects override it. */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

export const LOCAL_PORTS = {
  gateway: 54321,
  database: 54322,
  sandbox: 54329,
} as const;

const SANDBOX = `http://127.0.0.1:${LOCAL_PORTS.sandbox}`;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().trim().regex(
    /^\d+$/,
    `expected a whole number between ${min} and ${max}`,
  )
    .transform(Number).pipe(z.number().int().min(min).max(max));

const bool = z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"], {
  message: "expected true or false",
}).transform((v) => ["true", "1", "yes", "on"].includes(v));

const url = z.url({ message: "expected an absolute URL" });
const secret = z.string().min(1, "must not be empty");
const list = z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(
    z.array(z.string()).min(1, "expected at least one comma-separated value"),
  );

/** Every variable the project reads, with its local default (`undefined`: optional, no default). */
const variables = {
  SUPABASE_DB_URL: {
    doc: "Postgres URL; set by Supabase in deployed functions. Takes precedence over DATABASE_URL.",
    schema: url,
    fallback: undefined,
  },
  DATABASE_URL: {
    doc: "Postgres URL for the local stack and tests; unset = embedded PGlite on DB_PORT.",
    schema: url,
    fallback: undefined,
  },
  DB_POOL_MAX: {
    doc: "Connections per process (each edge isolate, the local gateway).",
    schema: int(1, 100),
    fallback: "4",
  },
  LOCAL_DATA_DIR: {
    doc: "Where the embedded PGlite keeps its data (git-ignored).",
    schema: z.string().min(1),
    fallback: ".local-data",
  },
  SUPABASE_URL: {
    doc: "Base URL of the Supabase project (the local gateway locally).",
    schema: url,
    fallback: `http://127.0.0.1:${LOCAL_PORTS.gateway}`,
  },
  JWT_SECRET: {
    doc:
      "The project's JWT secret, for the functions' own role checks (supabase secrets set JWT_SECRET=...).",
    schema: z.string().min(32, "must be at least 32 characters"),
    fallback: undefined,
  },
  SUPABASE_JWT_SECRET: {
    doc: "Fallback name for the JWT secret; locally Supabase's well-known default.",
    schema: z.string().min(32, "must be at least 32 characters"),
    fallback: LOCAL_JWT_SECRET,
  },
  GATEWAY_PORT: {
    doc: "Local functions gateway port (0 = any free port).",
    schema: int(0, 65535),
    fallback: String(LOCAL_PORTS.gateway),
  },
  GATEWAY_BODY_TIMEOUT_MS: {
    doc:
      "Local gateway: a request body not fully received this many ms after the headers answers 408.",
    schema: int(100, 600_000),
    fallback: "30000",
  },
  DB_PORT: {
    doc: "Local embedded Postgres (PGlite) wire-protocol port (0 = any free port).",
    schema: int(0, 65535),
    fallback: String(LOCAL_PORTS.database),
  },
  SANDBOX_PORT: {
    doc: "Local Dynamics sandbox port (0 = any free port).",
    schema: int(0, 65535),
    fallback: String(LOCAL_PORTS.sandbox),
  },
  DYNAMICS_SYNC_ENABLED: {
    doc: "Feature flag: false queues events as held and sends nothing until it is turned on again.",
    schema: bool,
    fallback: "true",
  },
  DYNAMICS_WEBHOOK_URL: {
    doc:
      "Where outbound webhooks go. Setting it means a real Dynamics: the local sandbox is not started.",
    schema: url,
    fallback: `${SANDBOX}/api/data/v9.2/hlf_certificationwebhooks`,
  },
  DYNAMICS_AUTH_MODE: {
    doc: "oauth2 (Entra ID client credentials) or apikey.",
    schema: z.enum(["oauth2", "apikey"]),
    fallback: "oauth2",
  },
  DYNAMICS_TOKEN_URL: {
    doc: "OAuth2 token endpoint (Entra ID form: .../oauth2/v2.0/token).",
    schema: url,
    fallback: `${SANDBOX}/hlf-sandbox/oauth2/v2.0/token`,
  },
  DYNAMICS_CLIENT_ID: {
    doc: "OAuth2 client id.",
    schema: z.string().min(1),
    fallback: "hlf-sync-local",
  },
  DYNAMICS_CLIENT_SECRET: {
    doc: "OAuth2 client secret.",
    schema: secret,
    fallback: "local-dynamics-client-secret",
  },
  DYNAMICS_SCOPE: {
    doc: "OAuth2 scope (Dataverse: https://<org>.crm.dynamics.com/.default).",
    schema: z.string().min(1),
    fallback: `${SANDBOX}/.default`,
  },
  DYNAMICS_API_KEY_HEADER: {
    doc: "Header carrying the key in apikey mode.",
    schema: z.string().min(1),
    fallback: "x-api-key",
  },
  DYNAMICS_API_KEY: {
    doc: "The key in apikey mode (required then).",
    schema: secret,
    fallback: undefined,
  },
  DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS: {
    doc: "Refresh a cached token this long before it expires.",
    schema: int(0, 3600),
    fallback: "60",
  },
  DYNAMICS_SIGNING_SECRET: {
    doc: "HMAC secret for outbound signatures (whsec_<base64> or plain text).",
    schema: secret,
    fallback: "local-outbound-signing-secret",
  },
  DYNAMICS_INBOUND_SECRETS: {
    doc: "Comma-separated secrets accepted on inbound webhooks (several during rotation).",
    schema: list,
    fallback: "local-inbound-signing-secret",
  },
  DYNAMICS_MAX_RETRIES: {
    doc: "In-request retries after the first attempt.",
    schema: int(0, 20),
    fallback: "4",
  },
  DYNAMICS_BACKOFF_BASE_MS: {
    doc: "Exponential backoff base.",
    schema: int(1, 600_000),
    fallback: "250",
  },
  DYNAMICS_BACKOFF_CAP_MS: {
    doc: "Exponential backoff cap.",
    schema: int(1, 3_600_000),
    fallback: "10000",
  },
  DYNAMICS_RETRY_AFTER_CAP_MS: {
    doc: "Longest Retry-After honoured within a request.",
    schema: int(0, 3_600_000),
    fallback: "60000",
  },
  DYNAMICS_ATTEMPT_TIMEOUT_MS: {
    doc: "Per-attempt timeout.",
    schema: int(1, 600_000),
    fallback: "10000",
  },
  DYNAMICS_BUDGET_MS: {
    doc: "Overall time budget of one send (keep under the edge function wall-clock limit).",
    schema: int(1, 3_600_000),
    fallback: "100000",
  },
  DYNAMICS_CIRCUIT_THRESHOLD: {
    doc: "Consecutive failures that open the circuit breaker (0 = no breaker).",
    schema: int(0, 10_000),
    fallback: "5",
  },
  DYNAMICS_CIRCUIT_COOLDOWN_MS: {
    doc: "How long an open circuit waits before a trial request.",
    schema: int(0, 3_600_000),
    fallback: "30000",
  },
  SYNC_BATCH_SIZE: {
    doc: "Events claimed per batch by a dispatcher.",
    schema: int(1, 10_000),
    fallback: "100",
  },
  SYNC_CONCURRENCY: {
    doc: "Deliveries in flight at once per dispatcher.",
    schema: int(1, 256),
    fallback: "8",
  },
  SYNC_LEASE_SECONDS: {
    doc: "Lease on a claimed event; a crashed dispatcher's events are re-claimed after it.",
    schema: int(1, 86_400),
    fallback: "120",
  },
  SYNC_MAX_ATTEMPTS: {
    doc: "Dispatch rounds before an event is dead-lettered (failed).",
    schema: int(1, 1000),
    fallback: "8",
  },
  SYNC_RESCHEDULE_BASE_SECONDS: {
    doc: "First reschedule delay after a failed round (doubles each round).",
    schema: int(1, 86_400),
    fallback: "60",
  },
  SYNC_RESCHEDULE_CAP_SECONDS: {
    doc: "Longest reschedule delay.",
    schema: int(1, 604_800),
    fallback: "21600",
  },
  SYNC_MAX_AGE_HOURS: {
    doc: "An event older than this is dead-lettered instead of rescheduled.",
    schema: int(1, 8760),
    fallback: "72",
  },
  WEBHOOK_TOLERANCE_SECONDS: {
    doc: "Accepted clock skew of inbound Standard Webhooks timestamps (replay window).",
    schema: int(1, 86_400),
    fallback: "300",
  },
  WEBHOOK_MAX_BODY_BYTES: {
    doc: "Largest inbound webhook body (413 beyond).",
    schema: int(256, 10_485_760),
    fallback: "65536",
  },
  LOG_LEVEL: {
    doc: "debug, info, warn, error or silent.",
    schema: z.enum(["debug", "info", "warn", "error", "silent"]),
    fallback: "info",
  },
} satisfies Record<string, { doc: string; schema: z.ZodType; fallback: string | undefined }>;

export type VariableName = keyof typeof variables;
type Parsed = {
  [K in VariableName]: z.output<(typeof variables)[K]["schema"]> | undefined;
};

/** Names and local defaults, in declaration order: the source of `.env.example`. */
export const VARIABLES: ReadonlyArray<
  { name: VariableName; doc: string; fallback: string | undefined }
> = Object.entries(variables).map(([name, v]) => ({
  name: name as VariableName,
  doc: v.doc,
  fallback: v.fallback,
}));

export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = "ConfigError";
  }
}

/** Same shape the Dynamics client takes, with the refresh skew always set. */
export type DynamicsAuthConfig =
  | (Extract<DynamicsAuthOptions, { mode: "oauth2" }> & { refreshSkewSeconds: number })
  | Extract<DynamicsAuthOptions, { mode: "apikey" }>;

export interface Config {
  database: {
    /** Explicit server URL; undefined means the embedded PGlite of the local stack. */
    url: string | undefined;
    poolMax: number;
    dataDir: string;
  };
  supabase: { url: string; jwtSecret: string };
  ports: { gateway: number; database: number; sandbox: number };
  gatewayBodyTimeoutMs: number;
  dynamics: {
    enabled: boolean;
    webhookUrl: string;
    auth: DynamicsAuthConfig;
    signingSecret: string;
    inboundSecrets: string[];
    retry: {
      maxRetries: number;
      baseDelayMs: number;
      maxDelayMs: number;
      retryAfterCapMs: number;
    };
    attemptTimeoutMs: number;
    budgetMs: number;
    circuit: { failureThreshold: number; cooldownMs: number } | false;
  };
  sync: {
    batchSize: number;
    concurrency: number;
    leaseSeconds: number;
    maxAttempts: number;
    rescheduleBaseSeconds: number;
    rescheduleCapSeconds: number;
    maxAgeHours: number;
  };
  inbound: { toleranceSeconds: number; maxBodyBytes: number };
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}

function parseVariables(env: Env): Parsed {
  const out: Record<string, unknown> = {};
  for (const [name, { schema, fallback }] of Object.entries(variables)) {
    const raw = env[name] === undefined || env[name] === "" ? fallback : env[name];
    if (raw === undefined) {
      out[name] = undefined;
      continue;
    }
    const result = (schema as z.ZodType).safeParse(raw);
    if (!result.success) {
      throw new ConfigError(
        name,
        result.error.issues.map((i) => i.message).join("; "),
      );
    }
    out[name] = result.data;
  }
  return out as Parsed;
}

function required<T>(name: VariableName, value: T | undefined, why: string): T {
  if (value === undefined) throw new ConfigError(name, `is required ${why}`);
  return value;
}

function dynamicsAuth(v: Parsed): DynamicsAuthConfig {
  if (v.DYNAMICS_AUTH_MODE === "apikey") {
    return {
      mode: "apikey",
      header: v.DYNAMICS_API_KEY_HEADER!,
      key: required(
        "DYNAMICS_API_KEY",
        v.DYNAMICS_API_KEY,
        "when DYNAMICS_AUTH_MODE=apikey",
      ),
    };
  }
  return {
    mode: "oauth2",
    tokenUrl: v.DYNAMICS_TOKEN_URL!,
    clientId: v.DYNAMICS_CLIENT_ID!,
    clientSecret: v.DYNAMICS_CLIENT_SECRET!,
    scope: v.DYNAMICS_SCOPE!,
    refreshSkewSeconds: v.DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS!,
  };
}

/** Validates `env` into a Config; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = readEnvironment()): Config {
  const v = parseVariables(env);
  return {
    database: {
      url: v.SUPABASE_DB_URL ?? v.DATABASE_URL,
      poolMax: v.DB_POOL_MAX!,
      dataDir: v.LOCAL_DATA_DIR!,
    },
    supabase: {
      url: v.SUPABASE_URL!,
      jwtSecret: v.JWT_SECRET ?? v.SUPABASE_JWT_SECRET!,
    },
    ports: {
      gateway: v.GATEWAY_PORT!,
      database: v.DB_PORT!,
      sandbox: v.SANDBOX_PORT!,
    },
    gatewayBodyTimeoutMs: v.GATEWAY_BODY_TIMEOUT_MS!,
    dynamics: {
      enabled: v.DYNAMICS_SYNC_ENABLED!,
      webhookUrl: v.DYNAMICS_WEBHOOK_URL!,
      auth: dynamicsAuth(v),
      signingSecret: v.DYNAMICS_SIGNING_SECRET!,
      inboundSecrets: v.DYNAMICS_INBOUND_SECRETS!,
      retry: {
        maxRetries: v.DYNAMICS_MAX_RETRIES!,
        baseDelayMs: v.DYNAMICS_BACKOFF_BASE_MS!,
        maxDelayMs: v.DYNAMICS_BACKOFF_CAP_MS!,
        retryAfterCapMs: v.DYNAMICS_RETRY_AFTER_CAP_MS!,
      },
      attemptTimeoutMs: v.DYNAMICS_ATTEMPT_TIMEOUT_MS!,
      budgetMs: v.DYNAMICS_BUDGET_MS!,
      circuit: v.DYNAMICS_CIRCUIT_THRESHOLD === 0 ? false : {
        failureThreshold: v.DYNAMICS_CIRCUIT_THRESHOLD!,
        cooldownMs: v.DYNAMICS_CIRCUIT_COOLDOWN_MS!,
      },
    },
    sync: {
      batchSize: v.SYNC_BATCH_SIZE!,
      concurrency: v.SYNC_CONCURRENCY!,
      leaseSeconds: v.SYNC_LEASE_SECONDS!,
      maxAttempts: v.SYNC_MAX_ATTEMPTS!,
      rescheduleBaseSeconds: v.SYNC_RESCHEDULE_BASE_SECONDS!,
      rescheduleCapSeconds: v.SYNC_RESCHEDULE_CAP_SECONDS!,
      maxAgeHours: v.SYNC_MAX_AGE_HOURS!,
    },
    inbound: {
      toleranceSeconds: v.WEBHOOK_TOLERANCE_SECONDS!,
      maxBodyBytes: v.WEBHOOK_MAX_BODY_BYTES!,
    },
    logLevel: v.LOG_LEVEL!,
  };
}

/** The seam: `Deno.env` under Deno, `process.env` under Node. */
export function readEnvironment(): Env {
  const g = globalThis as {
    Deno?: { env: { toObject(): Record<string, string> } };
    process?: { env: Record<string, string | undefined> };
  };
  if (g.Deno) return g.Deno.env.toObject();
  return g.process?.env ?? {};
}

let cached: Config | undefined;

/** The process-wide config, validated on first use (entrypoints call it at start to fail fast). */
export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}
