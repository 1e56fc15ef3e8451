// Production wiring: one set of long-lived dependencies per process (an edge isolate, or the local
// gateway), built from the validated config. The Dynamics client is per process so its token cache
// and circuit breaker are shared by every request the process serves. Tests build their own.
import { type Config, configured } from "./config.ts";
import { createSql, type Sql } from "./db.ts";
import { createDynamicsClient, type DynamicsClient } from "./dynamics/dynamics-client.ts";
import { type CallerVerifier, createCallerVerifier } from "./http/jwt.ts";
import { createLogger, type Logger } from "./logger.ts";
import { processCpuMeter } from "./outbox/cpu-meter.ts";
import { createSyncService, type SyncService } from "./sync-service.ts";

export interface Runtime {
  config: Config;
  log: Logger;
  /** Opened on first use, so a function that never touches the database never connects. */
  readonly sql: Sql;
  /** One Dynamics client per process: its token cache and breaker serve sends and reads alike. */
  readonly dynamics: DynamicsClient;
  readonly sync: SyncService;
  /** Verifies the callers of the JWT-protected functions. */
  readonly callers: CallerVerifier;
  close(): Promise<void>;
}

/** Every configured secret, for redaction of anything the Dynamics client reports. */
function knownSecrets(config: Config): string[] {
  const auth = config.outbound?.auth;
  return [
    config.outbound?.signingSecret,
    auth?.mode === "oauth2" ? auth.clientSecret : auth?.key,
    ...(config.inbound.secrets ?? []),
    config.callers?.jwtSecret,
    ...(config.callers?.serviceKeys ?? []),
  ].filter((s): s is string => s !== undefined);
}

export function dynamicsClientFor(config: Config, fetchImpl?: typeof fetch): DynamicsClient {
  const d = config.dynamics;
  const outbound = configured(config.outbound, "outbound");
  return createDynamicsClient({
    webhookUrl: outbound.webhookUrl,
    auth: outbound.auth,
    retry: d.retry,
    attemptTimeoutMs: d.attemptTimeoutMs,
    budgetMs: d.budgetMs,
    circuit: d.circuit,
    secrets: knownSecrets(config),
    fetch: fetchImpl,
  });
}

/** What a reconciliation run needs from the config: its limits and the portal's listings URL. */
export function reconcileSettings(config: Config) {
  return { ...config.reconcile, listingsUrl: configured(config.outbound, "outbound").listingsUrl };
}

export function syncServiceFor(
  config: Config,
  deps: { sql: Sql; client: DynamicsClient; log: Logger; owner?: string },
): SyncService {
  return createSyncService({
    sql: deps.sql,
    client: deps.client,
    log: deps.log,
    owner: deps.owner ?? `dispatcher-${crypto.randomUUID().slice(0, 8)}`,
    enabled: config.dynamics.enabled,
    signingSecret: configured(config.outbound, "outbound").signingSecret,
    policy: config.sync.policy,
    batchSize: config.sync.batchSize,
    concurrency: config.sync.concurrency,
    leaseSeconds: config.sync.leaseSeconds,
    budgetMs: config.dynamics.budgetMs,
    cpu: { meter: processCpuMeter(), budgetMs: config.sync.cpuBudgetMs },
  });
}

/** `config` was loaded with the needs of what will run on this runtime (see shared/serve.ts). */
export function createRuntime(config: Config, log = createLogger(config.logLevel)): Runtime {
  let sql: Sql | undefined;
  let dispatchSql: Sql | undefined;
  let sync: SyncService | undefined;
  let callers: CallerVerifier | undefined;
  let dynamics: DynamicsClient | undefined;
  const rt: Runtime = {
    config,
    log,
    get sql() {
      sql ??= createSql(configured(config.database, "database"));
      return sql;
    },
    get dynamics() {
      dynamics ??= dynamicsClientFor(config);
      return dynamics;
    },
    get sync() {
      dispatchSql ??= createSql(configured(config.database, "database"), {
        applicationName: "hlf-dynamics-sync-dispatcher",
        asyncCommit: true,
      });
      sync ??= syncServiceFor(config, { sql: dispatchSql, client: rt.dynamics, log });
      return sync;
    },
    get callers() {
      callers ??= createCallerVerifier(configured(config.callers, "callers"));
      return callers;
    },
    async close() {
      await Promise.all([sql?.end({ timeout: 5 }), dispatchSql?.end({ timeout: 5 })]);
    },
  };
  return rt;
}
