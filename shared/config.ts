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

/** A declared variable: its doc, and the default of a tunable (secrets and URLs never have one). */
export interface VariableInfo {
  name: string;
  doc: string;
  default: string | number | boolean | undefined;
}

export class ConfigError extends Error {
  readonly kind = "misconfigured";
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses `env` against declared variables (shared here, the local stack's in local/env.ts). An empty
 * value counts as unset. The error names the first bad variable in declaration order and says what
 * is wrong with it, never the value (zod's messages do not echo the input).
 */
export function parseVariables<S extends z.ZodObject>(variables: S, env: Env): z.output<S> {
  const input = Object.fromEntries(
    Object.keys(variables.shape).map((name) => [name, env[name] === "" ? undefined : env[name]]),
  );
  const result = variables.safeParse(input);
  if (result.success) return result.data;
  const name = String(result.error.issues[0].path[0]);
  const reasons = result.error.issues.filter((i) => i.path[0] === name).map((i) => i.message);
  throw new ConfigError(name, reasons.join("; "));
}

/** Names, docs and defaults of declared variables, in declaration order (for generated documents). */
export function describeVariables(variables: z.ZodObject): VariableInfo[] {
  return Object.entries(variables.shape).map(([name, schema]) => {
    if (schema.description === undefined) throw new Error(`${name} has no description`);
    const value = schema instanceof z.ZodDefault ? schema.def.defaultValue : undefined;
    return { name, doc: schema.description, default: value as VariableInfo["default"] };
  });
}

/** Dataverse's largest page: the most sync-reconcile may ask for, and what it asks for by default. */
const DATAVERSE_MAX_PAGE_SIZE = 5000;

/** DYNAMICS_LISTINGS_URL's default: this entity set in the same Web API as the webhook's. */
const LISTINGS_ENTITY_SET = "hlf_mentorlistings";

/** Every variable the functions read, with the default of each tunable. */
const variables = z.object({
  HLF_LOCAL_STACK: bool.default(false).describe(
    "Set only by the local stack and the tests: permits the well-known local secrets.",
  ),
  DATABASE_URL: url.optional().describe(
    "Postgres URL of the functions; wins over SUPABASE_DB_URL (the transaction pooler, port 6543).",
  ),
  SUPABASE_DB_URL: url.optional().describe(
    "Postgres URL Supabase injects into deployed functions (a direct connection).",
  ),
  DB_POOL_MAX: int(1, 100).default(4).describe(
    "Connections per pool; each isolate has up to two pools (requests, dispatcher).",
  ),
  SUPABASE_URL: url.optional().describe(
    "Base URL of the Supabase project (injected); user JWTs' issuer and the JWKS live under it.",
  ),
  SUPABASE_JWKS: jwks.optional().describe(
    "The project's JWKS, inline (injected); unset = fetched from SUPABASE_URL/auth/v1.",
  ),
  JWKS_TIMEOUT_MS: int(1, 60_000).default(5000).describe(
    "Timeout of one fetch of the project's JWKS.",
  ),
  JWKS_CACHE_SECONDS: int(1, 86_400).default(600).describe(
    "How long a fetched JWKS is trusted before it is fetched again.",
  ),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional().describe(
    "Legacy JWT secret: set it only to keep accepting HS256 tokens signed with it.",
  ),
  SUPABASE_SECRET_KEYS: namedKeys.optional().describe(
    'Secret API keys, {"name":"sb_secret_…"} (injected): service callers send one in `apikey`.',
  ),
  SUPABASE_SERVICE_ROLE_KEY: secret.optional().describe(
    "Legacy service-role JWT (injected): accepted from service callers as it is.",
  ),
  DYNAMICS_SYNC_ENABLED: bool.default(true).describe(
    "Feature flag: false queues events as held and sends nothing until it is turned on again.",
  ),
  DYNAMICS_ALLOW_INSECURE_URL: bool.default(false).describe(
    "Permit a loopback or plain-http Dynamics URL (rehearsals against the sandbox only).",
  ),
  DYNAMICS_WEBHOOK_URL: url.optional().describe(
    "Where outbound webhooks go (https). Unset locally: the stack starts its sandbox.",
  ),
  DYNAMICS_AUTH_MODE: z.enum(["oauth2", "apikey"]).default("oauth2").describe(
    "oauth2 (Entra ID client credentials) or apikey.",
  ),
  DYNAMICS_TOKEN_URL: url.optional().describe(
    "OAuth2 token endpoint (Entra ID form: .../oauth2/v2.0/token).",
  ),
  DYNAMICS_CLIENT_ID: z.string().min(1).optional().describe(
    "OAuth2 client id.",
  ),
  DYNAMICS_CLIENT_SECRET: secret.optional().describe(
    "OAuth2 client secret.",
  ),
  DYNAMICS_SCOPE: z.string().min(1).optional().describe(
    "OAuth2 scope (Dataverse: https://<org>.crm.dynamics.com/.default).",
  ),
  DYNAMICS_API_KEY_HEADER: z.string().min(1).default("x-api-key").describe(
    "Header carrying the key in apikey mode.",
  ),
  DYNAMICS_API_KEY: secret.optional().describe(
    "The key in apikey mode (required then).",
  ),
  DYNAMICS_TOKEN_REFRESH_SKEW_SECONDS: int(0, 3600).default(60).describe(
    "Refresh a cached token this long before it expires.",
  ),
  DYNAMICS_LISTINGS_URL: url.optional().describe(
    `The portal's listings collection (OData) that sync-reconcile reads; unset = the entity set ${LISTINGS_ENTITY_SET} beside DYNAMICS_WEBHOOK_URL.`,
  ),
  DYNAMICS_SIGNING_SECRET: secret.optional().describe(
    "HMAC secret for outbound signatures (whsec_<base64> or plain text).",
  ),
  DYNAMICS_INBOUND_SECRETS: list.optional().describe(
    "Comma-separated secrets accepted on inbound webhooks (several during rotation).",
  ),
  DYNAMICS_MAX_RETRIES: int(0, 20).default(4).describe(
    "In-request retries after the first attempt.",
  ),
  DYNAMICS_BACKOFF_BASE_MS: int(1, 600_000).default(250).describe(
    "Exponential backoff base.",
  ),
  DYNAMICS_BACKOFF_CAP_MS: int(1, 3_600_000).default(10_000).describe(
    "Exponential backoff cap.",
  ),
  DYNAMICS_RETRY_AFTER_CAP_MS: int(0, 3_600_000).default(60_000).describe(
    "Longest Retry-After honoured within a request.",
  ),
  DYNAMICS_ATTEMPT_TIMEOUT_MS: int(1, 600_000).default(10_000).describe(
    "Per-attempt timeout.",
  ),
  DYNAMICS_BUDGET_MS: int(1, 3_600_000).default(100_000).describe(
    "Overall time budget of one send (keep under the edge function wall-clock limit).",
  ),
  DYNAMICS_CIRCUIT_THRESHOLD: int(0, 10_000).default(5).describe(
    "Consecutive failures that open the circuit breaker (0 = no breaker).",
  ),
  DYNAMICS_CIRCUIT_COOLDOWN_MS: int(0, 3_600_000).default(30_000).describe(
    "How long an open circuit waits before a trial request.",
  ),
  SYNC_BATCH_SIZE: int(1, 10_000).default(100).describe(
    "Events claimed per batch by a dispatcher.",
  ),
  SYNC_CONCURRENCY: int(1, 256).default(8).describe(
    "Deliveries in flight at once per dispatcher.",
  ),
  SYNC_LEASE_SECONDS: int(1, 86_400).default(120).describe(
    "Lease on a claimed event; a crashed dispatcher's events are re-claimed after it.",
  ),
  SYNC_CPU_BUDGET_MS: int(1, 3_600_000).default(1500).describe(
    "CPU budget of one sync-retry invocation (Supabase kills a request past 2 s of CPU); it stops claiming batches when the next would pass it.",
  ),
  SYNC_MAX_ROUNDS: int(1, 1000).default(8).describe(
    "Dispatch rounds before an event is dead-lettered (failed).",
  ),
  SYNC_RESCHEDULE_BASE_SECONDS: int(1, 86_400).default(60).describe(
    "First reschedule delay after a failed round (doubles each round).",
  ),
  SYNC_RESCHEDULE_CAP_SECONDS: int(1, 604_800).default(21_600).describe(
    "Longest reschedule delay.",
  ),
  SYNC_MAX_AGE_HOURS: int(1, 8760).default(72).describe(
    "An event older than this is dead-lettered instead of rescheduled.",
  ),
  RECONCILE_PAGE_SIZE: int(1, DATAVERSE_MAX_PAGE_SIZE).default(DATAVERSE_MAX_PAGE_SIZE).describe(
    `Listings per page sync-reconcile asks for (Prefer: odata.maxpagesize; Dataverse's maximum is ${DATAVERSE_MAX_PAGE_SIZE}).`,
  ),
  RECONCILE_BUDGET_MS: int(1, 3_600_000).default(100_000).describe(
    "Wall-clock budget of one sync-reconcile invocation; a longer run resumes at its cursor.",
  ),
  RECONCILE_MAX_PAGES: int(1, 100_000).default(20).describe(
    "Pages one sync-reconcile invocation reads at most (keeps it inside an edge function's CPU limit); a longer run continues in a new invocation at its cursor.",
  ),
  ALERT_WEBHOOK_URL: url.optional().describe(
    'Where new alerts are posted (Slack-compatible JSON {"text"}); unset = not posted.',
  ),
  ALERT_OUTAGE_SECONDS: int(1, 604_800).default(600).describe(
    "Dynamics failing continuously for this long raises the outage alert.",
  ),
  SYNC_RETENTION_DAYS: int(1, 36_500).default(90).describe(
    "Audit attempts and inbound ledger rows older than this are pruned (never those of undelivered events or open dead letters).",
  ),
  SYNC_RETENTION_BATCH_SIZE: int(1, 1_000_000).default(5000).describe(
    "Rows deleted per table and transaction by the retention job.",
  ),
  WEBHOOK_TOLERANCE_SECONDS: int(1, 86_400).default(300).describe(
    "Accepted clock skew of inbound Standard Webhooks timestamps (replay window).",
  ),
  WEBHOOK_MAX_BODY_BYTES: int(256, 10_485_760).default(65_536).describe(
    "Largest inbound webhook body (413 beyond).",
  ),
  REQUEST_DEADLINE_MS: int(100, 600_000).default(20_000).describe(
    "How long a request may run past its function's own budget (none for dynamics-webhook, sync-status and sync-health; DYNAMICS_BUDGET_MS for sync-retry, sync-resend and the certification functions; RECONCILE_BUDGET_MS for sync-reconcile) before it is answered 503 deadline_exceeded with Retry-After: bounds a request waiting on a database connection that died.",
  ),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info").describe(
    "debug, info, warn, error or silent.",
  ),
});

export type VariableName = keyof typeof variables.shape;
type Values = z.output<typeof variables>;

/** Names and defaults, in declaration order: the source of `.env.example`. */
export const VARIABLES: readonly VariableInfo[] = describeVariables(variables);

/** What every variable is when nothing is set: each tunable's default, typed (secrets undefined). */
export const DEFAULTS: Values = parseVariables(variables, {});

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
  /** What a request may take past its function's own budget (REQUEST_DEADLINE_MS). */
  requestDeadlineMs: number;
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
    requestDeadlineMs: v.REQUEST_DEADLINE_MS,
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
  return new URL(LISTINGS_ENTITY_SET, webhookUrl).toString();
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
