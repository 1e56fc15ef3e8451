// Logs within Supabase's limits (about 100 events per 10 s per function): a sweep writes one
// summary line per batch, failed attempts and dead letters keep their own lines, and LOG_LEVEL=debug
// brings back one line per attempt.
import { beforeEach, describe, expect, it } from "vitest";
import { createAttemptTally } from "../../shared/outbox/attempt-summary.ts";
import { deliveryFailure } from "../../shared/dynamics/errors.ts";
import { createLogger, type LogLevel } from "../../shared/logger.ts";
import { createSyncService } from "../../shared/sync-service.ts";
import { attemptRecord } from "../support/attempt-record.ts";
import { useTestDatabase } from "../support/db.ts";
import { fakeDynamicsClient } from "../support/fake-dynamics-client.ts";
import { seedMentorsWithPendingEvents, settleOutbox } from "../support/factories.ts";

const db = useTestDatabase();
beforeEach(() => settleOutbox(db().sql));

const EVENTS = 25;
const BATCH = 10;

/** Each event: one delivered attempt, except `failing` events (one failed attempt, dead letter). */
async function sweep(level: LogLevel, failing: number) {
  await seedMentorsWithPendingEvents(db().sql, EVENTS);
  let sent = 0;
  const client = fakeDynamicsClient({
    send: async (request) => {
      const ok = sent++ >= failing;
      await request.onAttempt?.(attemptRecord({ status: ok ? 204 : 503, durationMs: 10 + sent }));
      return ok ? { ok: true, status: 204, attempts: 1 } : {
        ok: false,
        error: deliveryFailure("permanent", "http_400", "bad request", { status: 400 }),
        attempts: 1,
      };
    },
  });
  const lines: Record<string, unknown>[] = [];
  const service = createSyncService({
    sql: db().sql,
    client,
    log: createLogger(level, (line) => lines.push(JSON.parse(line))),
    owner: "log-test",
    enabled: true,
    signingSecret: "test-signing-secret",
    policy: {
      maxRounds: 3,
      rescheduleBaseSeconds: 60,
      rescheduleCapSeconds: 3600,
      maxAgeHours: 24,
    },
    batchSize: BATCH,
    concurrency: 1,
    leaseSeconds: 60,
    budgetMs: 30_000,
  });
  const counts = await service.dispatchDue();
  return { counts, lines, byMsg: (msg: string) => lines.filter((l) => l.msg === msg) };
}

describe("dispatch logging", () => {
  it("summarises successful attempts in one line per batch with counts and latencies", async () => {
    const { counts, lines, byMsg } = await sweep("info", 0);
    expect(counts.delivered).toBe(EVENTS);
    const batches = byMsg("dispatch batch");
    expect(batches).toHaveLength(Math.ceil(EVENTS / BATCH));
    expect(lines).toHaveLength(batches.length);
    expect(batches.reduce((n, b) => n + (b.delivered as number), 0)).toBe(EVENTS);
    expect(batches[0]).toMatchObject({
      level: "info",
      claimed: BATCH,
      delivered: BATCH,
      attempts: BATCH,
      failedAttempts: 0,
      p50Ms: expect.any(Number),
      maxMs: expect.any(Number),
    });
    expect(batches[0].maxMs as number).toBeGreaterThanOrEqual(batches[0].p50Ms as number);
  });

  it("keeps a line for each failed attempt and each dead letter", async () => {
    const { byMsg } = await sweep("info", 2);
    expect(byMsg("dynamics attempt failed")).toHaveLength(2);
    expect(byMsg("sync event dead-lettered")).toHaveLength(2);
    expect(byMsg("dynamics attempt")).toHaveLength(0);
    expect(byMsg("dispatch batch")[0]).toMatchObject({ failed: 2, failedAttempts: 2 });
  });

  it("LOG_LEVEL=debug gives one line per attempt as well", async () => {
    const { byMsg } = await sweep("debug", 0);
    expect(byMsg("dynamics attempt")).toHaveLength(EVENTS);
    expect(byMsg("dynamics attempt")[0]).toMatchObject({ level: "debug", outcome: "delivered" });
  });
});

describe("attempt tally", () => {
  it("reports the lower median and the maximum, and nulls when nothing was attempted", () => {
    const tally = createAttemptTally();
    expect(tally.summary()).toEqual({ attempts: 0, failedAttempts: 0, p50Ms: null, maxMs: null });
    for (const [ms, ok] of [[40, true], [10, true], [30, false], [20, true]] as const) {
      tally.add(ms, ok);
    }
    expect(tally.summary()).toEqual({ attempts: 4, failedAttempts: 1, p50Ms: 20, maxMs: 40 });
  });
});
