// Production wiring: one set of long-lived dependencies per process (an edge isolate, or the local
// gateway), built from the validated config. The Dynamics client is per process so its token cache
// and circuit breaker are shared by every request the process serves. Tests build their own.
import type { Config } from "./config.ts";
import { getConfig } from "./config.ts";
import { createSql, type Sql } from "./db.ts";
import { createDynamicsClient, type DynamicsClient } from "./dynamics-client.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createSyncService, type SyncService } from "./sync-service.ts";

export interface Runtime {
  config: Config;
  log: Logger;
  /** Opened on first use, so a function that never touches the database never connects. */
  readonly sql: Sql;
  /** One Dynamics client per process: its token cache and breaker serve sends and reads alike. */
  readonly dynamics: DynamicsClient;
  readonly sync: SyncService;
  close(): Promise<void>;
}

export function dynamicsClientFor(config: Config, fetchImpl?: typeof fetch): DynamicsClient {
  const d = config.dynamics;
  return createDynamicsClient({
    webhookUrl: d.webhookUrl,
    auth: d.auth,
    retry: d.retry,
    attemptTimeoutMs: d.attemptTimeoutMs,
    budgetMs: d.budgetMs,
    circuit: d.circuit,
    secrets: [d.signingSecret, ...d.inboundSecrets, config.supabase.jwtSecret],
    fetch: fetchImpl,
  });
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
    signingSecret: config.dynamics.signingSecret,
    policy: {
      maxAttempts: config.sync.maxAttempts,
      rescheduleBaseSeconds: config.sync.rescheduleBaseSeconds,
      rescheduleCapSeconds: config.sync.rescheduleCapSeconds,
      maxAgeHours: config.sync.maxAgeHours,
    },
    batchSize: config.sync.batchSize,
    concurrency: config.sync.concurrency,
    leaseSeconds: config.sync.leaseSeconds,
    budgetMs: config.dynamics.budgetMs,
  });
}

export function createRuntime(config: Config = getConfig()): Runtime {
  const log = createLogger(config.logLevel);
  let sql: Sql | undefined;
  let dispatchSql: Sql | undefined;
  let sync: SyncService | undefined;
  let dynamics: DynamicsClient | undefined;
  const rt: Runtime = {
    config,
    log,
    get sql() {
      sql ??= createSql(config);
      return sql;
    },
    get dynamics() {
      dynamics ??= dynamicsClientFor(config);
      return dynamics;
    },
    get sync() {
      dispatchSql ??= createSql(config, {
        applicationName: "hlf-dynamics-sync-dispatcher",
        asyncCommit: true,
      });
      sync ??= syncServiceFor(config, { sql: dispatchSql, client: rt.dynamics, log });
      return sync;
    },
    async close() {
      await Promise.all([sql?.end({ timeout: 5 }), dispatchSql?.end({ timeout: 5 })]);
    },
  };
  return rt;
}
