// The one place that reads the environment. Every variable is declared here, validated once with zod,
// and turned into a typed Config; an invalid value fails fast with an error naming the variable
// (never echoing its value: several are secrets).
//
// Fail-closed: no secret and no Dynamics URL has a default. Each function states what it needs
// (`Need`); a needed section with a missing value, any well-known local secret outside the local stack
// (HLF_LOCAL_STACK=true) and a loopback or plain-http Dynamics URL without
// DYNAMICS_ALLOW_INSECURE_URL=true are ConfigErrors. The local stack supplies its values from its own
// profile (local/env.ts).
import { z } from "zod";
import type { JSONWebKeySet } from "jose";
import type { DynamicsAuthOptions } from "./dynamics/dynamics-auth.ts";
import type { ReschedulePolicy } from "./outbox/reschedule.ts";
import { isWellKnownLocalSecret } from "./well-known-secrets.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
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
const json = z.string().transform((v, ctx) => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "expected JSON" });
    return z.NEVER;
  }
});
/** Supabase's form: `{"default":"sb_secret_…","other":"sb_secret_…"}`. */
const namedKeys = json.pipe(
  z.record(z.string(), z.string().min(1)).transform((keys) => Object.values(keys)).pipe(
    z.array(z.string()).min(1, "expected at least one key"),
  ),
);
/** `{"keys":[…]}` or a bare array of JWKs, as Supabase injects SUPABASE_JWKS. */
const jwks = json.pipe(
  z.union([
    z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }),
    z.array(z.looseObject({ kty: z.string() })).transform((keys) => ({ keys })),
  ]),
).transform((set) => set as unknown as JSONWebKeySet);

export interface VariableSpec {
  doc: string;
  schema: z.ZodType;
  /** The default for a tunable; secrets and URLs never have one. */
  fallback: string | undefined;
}

export interface VariableInfo {
  name: string;
  doc: string;
  fallback: string | undefined;
}

/** A variable with a default always has a value; only those without one may be undefined. */
export type Parsed<T extends Record<string, VariableSpec>> = {
  [K in keyof T]: T[K]["fallback"] extends string ? z.output<T[K]["schema"]>
    : z.output<T[K]["schema"]> | undefined;
};

export class ConfigError extends Error {
  readonly kind = "misconfigured";
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = "ConfigError";
  }
}

/** Parses `env` against declared variables (shared here, the local stack's in local/env.ts). */
export function parseVariables<T extends Record<string, VariableSpec>>(
  specs: T,
  env: Env,
): Parsed<T> {
  const out: Record<string, unknown> = {};
  for (const [name, { schema, fallback }] of Object.entries(specs)) {
    const raw = env[name] === undefined || env[name] === "" ? fallback : env[name];
    if (raw === undefined) {
      out[name] = undefined;
      continue;
    }
    const result = schema.safeParse(raw);
    if (!result.success) {
      throw new ConfigError(name, result.error.issues.map((i) => i.message).join("; "));
    }
    out[name] = result.data;
  }
  return out as Parsed<T>;
}

export function describeVariables(specs: Record<string, VariableSpec>): VariableInfo[] {
  return Object.entries(specs).map(([name, v]) => ({ name, doc: v.doc, fallback: v.fallback }));
}
/** Every variable the functions read, with the default of each tunable. */
const variables = {
  HLF_LOCAL_STACK: {
    doc: "Set only by the local stack and the tests: permits the well-known local secrets.",
    schema: bool,
    fallback: "false",
  },
  DATABASE_URL: {
    doc:
      "Postgres URL of the functions; wins over SUPABASE_DB_URL (the transaction pooler, port 6543).",
    schema: url,
    fallback: undefined,
  },
  SUPABASE_DB_URL: {
    doc: "Postgres URL Supabase injects into deployed functions (a direct connection).",
    schema: url,
    fallback: undefined,
  },
  DB_POOL_MAX: {
    doc: "Connections per pool; each isolate has up to two pools (requests, dispatcher).",
    schema: int(1, 100),
    fallback: "4",
  },
  SUPABASE_URL: {
    doc:
      "Base URL of the Supabase project (injected); user JWTs' issuer and the JWKS live under it.",
    schema: url,
    fallback: undefined,
  },
  SUPABASE_JWKS: {
    doc: "The project's JWKS, inline (injected); unset = fetched from SUPABASE_URL/auth/v1.",
    schema: jwks,
    fallback: undefined,
  },
  JWKS_TIMEOUT_MS: {
    doc: "Timeout of one fetch of the project's JWKS.",
    schema: int(1, 60_000),
    fallback: "5000",
  },
  JWKS_CACHE_SECONDS: {
    doc: "How long a fetched JWKS is trusted before it is fetched again.",
    schema: int(1, 86_400),
    fallback: "600",
  },
  JWT_SECRET: {
    doc: "Legacy JWT secret: set it only to keep accepting HS256 tokens signed with it.",
    schema: z.string().min(32, "must be at least 32 characters"),
    fallback: undefined,
  },
  SUPABASE_SECRET_KEYS: {
    doc:
      'Secret API keys, {"name":"sb_secret_…"} (injected): service callers send one in `apikey`.',
    schema: namedKeys,
    fallback: undefined,
  },
  SUPABASE_SERVICE_ROLE_KEY: {
    doc: "Legacy service-role JWT (injected): accepted from service callers as it is.",
    schema: secret,
    fallback: undefined,
  },
  DYNAMICS_SYNC_ENABLED: {
    doc: "Feature flag: false queues events as held and sends nothing until it is turned on again.",
    schema: bool,
    fallback: "true",
  },
  DYNAMICS_ALLOW_INSECURE_URL: {
    doc: "Permit a loopback or plain-http Dynamics URL (rehearsals against the sandbox only).",
    schema: bool,
    fallback: "false",
  },
  DYNAMICS_WEBHOOK_URL: {
    doc: "Where outbound webhooks go (https). Unset locally: the stack starts its sandbox.",
    schema: url,
    fallback: undefined,
  },
  DYNAMICS_AUTH_MODE: {
    doc: "oauth2 (Entra ID client credentials) or apikey.",
    schema: z.enum(["oauth2", "apikey"]),
    fallback: "oauth2",
  },
  DYNAMICS_TOKEN_URL: {
    doc: "OAuth2 token endpoint (Entra ID form: .../oauth2/v2.0/token).",
    schema: url,
    fallback: undefined,
  },
  DYNAMICS_CLIENT_ID: {
    doc: "OAuth2 client id.",
    schema: z.string().min(1),
    fallback: undefined,
  },
  DYNAMICS_CLIENT_SECRET: {
    doc: "OAuth2 client secret.",
    schema: secret,
    fallback: undefined,
  },
  DYNAMICS_SCOPE: {
    doc: "OAuth2 scope (Dataverse: https://<org>.crm.dynamics.com/.default).",
    schema: z.string().min(1),
    fallback: undefined,
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
  DYNAMICS_LISTINGS_URL: {
    doc:
      "The portal's listings collection (OData) that sync-reconcile reads; unset = the entity set hlf_mentorlistings beside DYNAMICS_WEBHOOK_URL.",
    schema: url,
    fallback: undefined,
  },
  DYNAMICS_SIGNING_SECRET: {
    doc: "HMAC secret for outbound signatures (whsec_<base64> or plain text).",
    schema: secret,
    fallback: undefined,
  },
  DYNAMICS_INBOUND_SECRETS: {
    doc: "Comma-separated secrets accepted on inbound webhooks (several during rotation).",
    schema: list,
    fallback: undefined,
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
  SYNC_CPU_BUDGET_MS: {
    doc:
      "CPU budget of one sync-retry invocation (Supabase kills a request past 2 s of CPU); it stops claiming batches when the next would pass it.",
    schema: int(1, 3_600_000),
    fallback: "1500",
  },
  SYNC_MAX_ROUNDS: {
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
  RECONCILE_PAGE_SIZE: {
    doc:
      "Listings per page sync-reconcile asks for (Prefer: odata.maxpagesize; Dataverse's maximum is 5000).",
    schema: int(1, 5000),
    fallback: "5000",
  },
  RECONCILE_BUDGET_MS: {
    doc: "Wall-clock budget of one sync-reconcile invocation; a longer run resumes at its cursor.",
    schema: int(1, 3_600_000),
    fallback: "100000",
  },
  RECONCILE_MAX_PAGES: {
    doc:
      "Pages one sync-reconcile invocation reads at most (keeps it inside an edge function's CPU limit); a longer run continues in a new invocation at its cursor.",
    schema: int(1, 100_000),
    fallback: "20",
  },
  ALERT_WEBHOOK_URL: {
    doc: 'Where new alerts are posted (Slack-compatible JSON {"text"}); unset = not posted.',
    schema: url,
    fallback: undefined,
  },
  ALERT_OUTAGE_SECONDS: {
    doc: "Dynamics failing continuously for this long raises the outage alert.",
    schema: int(1, 604_800),
    fallback: "600",
  },
  SYNC_RETENTION_DAYS: {
    doc:
      "Audit attempts and inbound ledger rows older than this are pruned (never those of undelivered events or open dead letters).",
    schema: int(1, 36_500),
    fallback: "90",
  },
  SYNC_RETENTION_BATCH_SIZE: {
    doc: "Rows deleted per table and transaction by the retention job.",
    schema: int(1, 1_000_000),
    fallback: "5000",
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
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof variables;
type Values = Parsed<typeof variables>;

/** Names and defaults, in declaration order: the source of `.env.example`. */
export const VARIABLES: readonly VariableInfo[] = describeVariables(variables);

/** What a function uses; only those sections must be configured for it to serve. */
export type Need = "database" | "callers" | "outbound" | "inbound";
export const ALL_NEEDS: readonly Need[] = ["database", "callers", "outbound", "inbound"];

export interface DatabaseConfig {
  url: string;
  poolMax: number;
}

/** How callers of the JWT-protected functions are verified (shared/http/jwt.ts). */
export interface CallerAuthConfig {
  /** Issuer of user JWTs, `${SUPABASE_URL}/auth/v1`; the JWKS is served under it. */
  authUrl: string;
  /** Inline JWKS; undefined: fetched from `${authUrl}/.well-known/jwks.json`. */
  jwks: JSONWebKeySet | undefined;
  jwksTimeoutMs: number;
  jwksCacheSeconds: number;
  /** Legacy HS256 secret; HS256 is refused without it. */
  jwtSecret: string | undefined;
  /** Opaque keys that make a service caller: secret API keys and the legacy service-role JWT. */
  serviceKeys: string[];
}

export interface OutboundConfig {
  webhookUrl: string;
  /** The portal's listings collection that sync-reconcile reads. */
  listingsUrl: string;
  auth: DynamicsAuthOptions;
  signingSecret: string;
}

export interface Config {
  /** HLF_LOCAL_STACK: the well-known local secrets are permitted. */
  local: boolean;
  /** Said once at start (an insecure Dynamics URL permitted for a rehearsal). */
  warnings: string[];
  /** Sections are undefined when not configured and not needed. */
  database: DatabaseConfig | undefined;
  callers: CallerAuthConfig | undefined;
  outbound: OutboundConfig | undefined;
  dynamics: {
    enabled: boolean;
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
    /** CPU budget of one sync-retry invocation (SYNC_CPU_BUDGET_MS). */
    cpuBudgetMs: number;
    /** What a failed round becomes (outbox/reschedule.ts). */
    policy: ReschedulePolicy;
    retention: { maxAgeDays: number; batchSize: number };
  };
  inbound: { toleranceSeconds: number; maxBodyBytes: number; secrets: string[] | undefined };
  reconcile: { pageSize: number; budgetMs: number; maxPages: number };
  alerts: { webhookUrl: string | undefined; outageSeconds: number };
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
}

function required<T>(name: VariableName, value: T | undefined, why = ""): T {
  if (value === undefined) throw new ConfigError(name, `is required${why}`);
  return value;
}

const SECRET_VARIABLES: readonly VariableName[] = [
  "JWT_SECRET",
  "SUPABASE_SECRET_KEYS",
  "SUPABASE_SERVICE_ROLE_KEY",
  "DYNAMICS_CLIENT_SECRET",
  "DYNAMICS_API_KEY",
  "DYNAMICS_SIGNING_SECRET",
  "DYNAMICS_INBOUND_SECRETS",
];

function refuseWellKnownSecrets(v: Values): void {
  if (v.HLF_LOCAL_STACK) return;
  for (const name of SECRET_VARIABLES) {
    const value = v[name] as string | string[] | undefined;
    const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
    if (values.some(isWellKnownLocalSecret)) {
      throw new ConfigError(
        name,
        "is a well-known local value published in the README; set the real secret",
      );
    }
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1?\]|0\.0\.0\.0)$/i;

/** A Dynamics URL must be public https unless the rehearsal switch is on (then: one warning). */
function dynamicsUrl(name: VariableName, value: string, v: Values, warnings: string[]): string {
  const { protocol, hostname } = new URL(value);
  const insecure = protocol !== "https:" || LOOPBACK.test(hostname) ||
    hostname.endsWith(".localhost");
  if (!insecure) return value;
  if (!v.DYNAMICS_ALLOW_INSECURE_URL) {
    throw new ConfigError(
      name,
      "must be an https URL of a non-loopback host (DYNAMICS_ALLOW_INSECURE_URL=true permits it for rehearsals)",
    );
  }
  warnings.push(`${name} is loopback or plain http (DYNAMICS_ALLOW_INSECURE_URL=true)`);
  return value;
}

function dynamicsAuth(v: Values, warnings: string[]): DynamicsAuthOptions {
  if (v.DYNAMICS_AUTH_MODE === "apikey") {
    return {
      mode: "apikey",
      header: v.DYNAMICS_API_KEY_HEADER,
      key: required("DYNAMICS_API_KEY", v.DYNAMICS_API_KEY, " when DYNAMICS_AUTH_MODE=apikey"),
    };
  }
  const oauth2 = " when DYNAMICS_AUTH_MODE=oauth2";
  return {
    mode: "oauth2",
    tokenUrl: dynamicsUrl(
      "DYNAMICS_TOKEN_URL",
      required("DYNAMICS_TOKEN_URL", v.DYNAMICS_TOKEN_URL, oauth2),
      v,
      warnings,
    ),
    clientId: required("DYNAMICS_CLIENT_ID", v.DYNAMICS_CLIENT_ID, oauth2),
    clientSecret: required("DYNAMICS_CLIENT_SECRET", v.DYNAMICS_CLIENT_SECRET, oauth2),
    scope: required("DYNAMICS_SCOPE", v.DYNAMICS_SCOPE, oauth2),
    refreshSkewSeconds: v.DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS,
  };
}

/**
 * A section is built when needed, or when any of its variables is set (so a half-configured
 * section fails at start even where it is optional); otherwise it is undefined.
 */
function section<T>(
  needed: boolean,
  v: Values,
  names: readonly VariableName[],
  build: () => T,
): T | undefined {
  return needed || names.some((n) => v[n] !== undefined) ? build() : undefined;
}

/**
 * Validates `env` into a Config; throws ConfigError naming the first bad variable. `needs` are the
 * sections the caller uses: each must be fully configured.
 */
export function loadConfig(env: Env = readEnvironment(), needs: readonly Need[] = []): Config {
  const v = parseVariables(variables, env);
  refuseWellKnownSecrets(v);
  const warnings: string[] = [];
  const need = (n: Need) => needs.includes(n);
  return {
    local: v.HLF_LOCAL_STACK,
    warnings,
    database: section(need("database"), v, ["DATABASE_URL", "SUPABASE_DB_URL"], () => ({
      url: v.DATABASE_URL ?? required("SUPABASE_DB_URL", v.SUPABASE_DB_URL, " (or DATABASE_URL)"),
      poolMax: v.DB_POOL_MAX,
    })),
    callers: section(need("callers"), v, ["SUPABASE_URL"], () => {
      const base = required("SUPABASE_URL", v.SUPABASE_URL).replace(/\/+$/, "");
      return {
        authUrl: `${base}/auth/v1`,
        jwks: v.SUPABASE_JWKS,
        jwksTimeoutMs: v.JWKS_TIMEOUT_MS,
        jwksCacheSeconds: v.JWKS_CACHE_SECONDS,
        jwtSecret: v.JWT_SECRET,
        serviceKeys: [
          ...(v.SUPABASE_SECRET_KEYS ?? []),
          ...(v.SUPABASE_SERVICE_ROLE_KEY ? [v.SUPABASE_SERVICE_ROLE_KEY] : []),
        ],
      };
    }),
    outbound: section(
      need("outbound"),
      v,
      ["DYNAMICS_WEBHOOK_URL"],
      () => {
        const webhookUrl = dynamicsUrl(
          "DYNAMICS_WEBHOOK_URL",
          required("DYNAMICS_WEBHOOK_URL", v.DYNAMICS_WEBHOOK_URL),
          v,
          warnings,
        );
        return {
          webhookUrl,
          listingsUrl: v.DYNAMICS_LISTINGS_URL
            ? dynamicsUrl("DYNAMICS_LISTINGS_URL", v.DYNAMICS_LISTINGS_URL, v, warnings)
            : listingsBeside(webhookUrl),
          auth: dynamicsAuth(v, warnings),
          signingSecret: required("DYNAMICS_SIGNING_SECRET", v.DYNAMICS_SIGNING_SECRET),
        };
      },
    ),
    dynamics: {
      enabled: v.DYNAMICS_SYNC_ENABLED,
      retry: {
        maxRetries: v.DYNAMICS_MAX_RETRIES,
        baseDelayMs: v.DYNAMICS_BACKOFF_BASE_MS,
        maxDelayMs: v.DYNAMICS_BACKOFF_CAP_MS,
        retryAfterCapMs: v.DYNAMICS_RETRY_AFTER_CAP_MS,
      },
      attemptTimeoutMs: v.DYNAMICS_ATTEMPT_TIMEOUT_MS,
      budgetMs: v.DYNAMICS_BUDGET_MS,
      circuit: v.DYNAMICS_CIRCUIT_THRESHOLD === 0 ? false : {
        failureThreshold: v.DYNAMICS_CIRCUIT_THRESHOLD,
        cooldownMs: v.DYNAMICS_CIRCUIT_COOLDOWN_MS,
      },
    },
    sync: {
      batchSize: v.SYNC_BATCH_SIZE,
      concurrency: v.SYNC_CONCURRENCY,
      leaseSeconds: v.SYNC_LEASE_SECONDS,
      cpuBudgetMs: v.SYNC_CPU_BUDGET_MS,
      policy: {
        maxRounds: v.SYNC_MAX_ROUNDS,
        rescheduleBaseSeconds: v.SYNC_RESCHEDULE_BASE_SECONDS,
        rescheduleCapSeconds: v.SYNC_RESCHEDULE_CAP_SECONDS,
        maxAgeHours: v.SYNC_MAX_AGE_HOURS,
      },
      retention: {
        maxAgeDays: v.SYNC_RETENTION_DAYS,
        batchSize: v.SYNC_RETENTION_BATCH_SIZE,
      },
    },
    inbound: {
      toleranceSeconds: v.WEBHOOK_TOLERANCE_SECONDS,
      maxBodyBytes: v.WEBHOOK_MAX_BODY_BYTES,
      secrets: need("inbound")
        ? required("DYNAMICS_INBOUND_SECRETS", v.DYNAMICS_INBOUND_SECRETS)
        : v.DYNAMICS_INBOUND_SECRETS,
    },
    reconcile: {
      pageSize: v.RECONCILE_PAGE_SIZE,
      budgetMs: v.RECONCILE_BUDGET_MS,
      maxPages: v.RECONCILE_MAX_PAGES,
    },
    alerts: { webhookUrl: v.ALERT_WEBHOOK_URL, outageSeconds: v.ALERT_OUTAGE_SECONDS },
    logLevel: v.LOG_LEVEL,
  };
}

/** A section the caller declared as needed (its absence is a programming error, said clearly). */
export function configured<T>(value: T | undefined, need: Need): T {
  if (value === undefined) {
    throw new ConfigError(need, "section is used but was not declared needed");
  }
  return value;
}

/** The listings entity set in the same Dataverse Web API as the webhook entity set. */
function listingsBeside(webhookUrl: string): string {
  return new URL("hlf_mentorlistings", webhookUrl).toString();
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
