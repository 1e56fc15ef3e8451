// The sync service over the real schema with a scripted Dynamics client: what a round's outcome does
// to the event (refusals, Retry-After, dead letters) without any HTTP.
import { beforeEach, describe, expect, it } from "vitest";
import type { SendOutcome } from "../../shared/dynamics/dynamics-client.ts";
import { deliveryFailure } from "../../shared/dynamics/errors.ts";
import { createLogger } from "../../shared/logger.ts";
import { type CpuMeter, readingCpuMeter } from "../../shared/outbox/cpu-meter.ts";
import { createSyncService } from "../../shared/sync-service.ts";
import { useTestDatabase } from "../support/db.ts";
import { fakeDynamicsClient } from "../support/fake-dynamics-client.ts";
import { createListedMentor, settleOutbox } from "../support/factories.ts";

const db = useTestDatabase();
beforeEach(() => settleOutbox(db().sql));

function serviceAnswering(
  outcome: SendOutcome,
  now: () => number = Date.now,
  enabled = true,
  cpu?: { meter: CpuMeter; budgetMs: number; onSend: () => void },
) {
  const sent: string[] = [];
  const client = fakeDynamicsClient({
    send: (request) => {
      sent.push(request.eventId);
      cpu?.onSend();
      return Promise.resolve(outcome);
    },
  });
  const service = createSyncService({
    sql: db().sql,
    client,
    log: createLogger("silent"),
    owner: "test-dispatcher",
    enabled,
    signingSecret: "test-signing-secret",
    policy: {
      maxRounds: 3,
      rescheduleBaseSeconds: 60,
      rescheduleCapSeconds: 3600,
      maxAgeHours: 24,
    },
    batchSize: 10,
    concurrency: 2,
    leaseSeconds: 60,
    budgetMs: 30_000,
    cpu,
    now,
    random: () => 0,
  });
  return { service, sent };
}

const eventRow = (mentorId: string) =>
  db().sql`select state, rounds, attempts, next_attempt_at from public.sync_events
    where mentor_id = ${mentorId} and state <> 'superseded' order by id desc limit 1`;

describe("sync service rounds", () => {
  it("gives a round refused for lack of budget back, due again at once", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const refused = deliveryFailure("retryable", "budget_exhausted", "time budget exhausted");
    const { service } = serviceAnswering({ ok: false, error: refused, attempts: 0 });
    const counts = await service.dispatchDue();
    expect(counts).toMatchObject({ claimed: 1, retrying: 1 });
    const [row] = await eventRow(mentorId);
    expect(row).toMatchObject({ state: "retrying", rounds: 0, attempts: 0 });
    expect(row.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("comes back when Dynamics' Retry-After says, not after the long reschedule backoff", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const throttled = deliveryFailure("retryable", "http_429", "too many requests", {
      status: 429,
      retryAfterMs: 2_000,
    });
    const before = Date.now();
    const { service } = serviceAnswering({ ok: false, error: throttled, attempts: 5 });
    await service.dispatchDue();
    const [row] = await eventRow(mentorId);
    expect(row.state).toBe("retrying");
    expect(row.next_attempt_at.getTime() - before).toBeGreaterThanOrEqual(2_000);
    expect(row.next_attempt_at.getTime() - before).toBeLessThan(30_000);
  });

  it("dead-letters a permanent failure at once", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const rejected = deliveryFailure("permanent", "http_422", "unprocessable", { status: 422 });
    const { service } = serviceAnswering({ ok: false, error: rejected, attempts: 1 });
    expect(await service.dispatchDue()).toMatchObject({ failed: 1 });
    const [row] = await eventRow(mentorId);
    expect(row).toMatchObject({ state: "failed", rounds: 1 });
  });

  it("claims no new batch in the last moments of its budget", async () => {
    await createListedMentor(db().sql);
    // The budget starts at t0; by the time the loop looks again 26 of its 30 s are gone, which is
    // inside the 5 s claim floor.
    const t0 = 1_000_000;
    let calls = 0;
    const late = serviceAnswering(
      { ok: true, status: 204, attempts: 1 },
      () => (calls++ === 0 ? t0 : t0 + 26_000),
    );
    expect((await late.service.dispatchDue()).claimed).toBe(0);
    expect(late.sent).toEqual([]);
    const onTime = serviceAnswering({ ok: true, status: 204, attempts: 1 });
    expect(await onTime.service.dispatchDue()).toMatchObject({ claimed: 1, delivered: 1 });
  });

  it("stops claiming before its CPU budget, finishes what it claimed, and the next call carries on", async () => {
    const mentors = [];
    for (let i = 0; i < 25; i++) mentors.push((await createListedMentor(db().sql)).mentorId);
    // Each send costs 10 ms of CPU on the fake clock: a batch of 10 costs 100.
    let cpuMs = 7_000;
    const { service, sent } = serviceAnswering(
      { ok: true, status: 204, attempts: 1 },
      Date.now,
      true,
      { meter: readingCpuMeter(() => cpuMs), budgetMs: 250, onSend: () => void (cpuMs += 10) },
    );
    // 237.5 of the 250 may be claimed into. Batch 1 (10 events): 100 spent, 10 ms per event, 15
    // with headroom: 9 fit in the 137.5 left; then 3 in 47.5, then 1 in 17.5; at 230 not one more.
    expect(await service.dispatchDue()).toMatchObject({ claimed: 23, delivered: 23, cpuMs: 230 });
    const leased = await db().sql`
      select count(*)::int as n from public.sync_events where lease_owner is not null`;
    expect(leased[0].n).toBe(0);
    expect(await service.dispatchDue()).toMatchObject({ claimed: 2, delivered: 2, cpuMs: 20 });
    expect(new Set(sent).size).toBe(25);
    for (const mentorId of mentors) {
      expect((await eventRow(mentorId))[0].state).toBe("delivered");
    }
  });

  it("leaves the pause hold and release of other mentors' events to the sweep", async () => {
    const delivered: SendOutcome = { ok: true, status: 204, attempts: 1 };
    const [direct, other] = [
      await createListedMentor(db().sql),
      await createListedMentor(db().sql),
    ];
    const states = async () =>
      (await Promise.all([eventRow(direct.mentorId), eventRow(other.mentorId)])).map(([r]) =>
        r.state
      );
    // Paused (flag off, no switch row): a direct call sends nothing and holds nothing.
    const paused = serviceAnswering(delivered, Date.now, false);
    expect(await paused.service.syncCertificationRenewed(direct.mentorId)).toMatchObject({
      kind: "ok",
      result: { state: "pending" },
    });
    expect({ sent: paused.sent, states: await states() }).toEqual({
      sent: [],
      states: ["pending", "pending"],
    });
    // The sweep holds both.
    expect(await paused.service.dispatchDue()).toMatchObject({ held: 2, claimed: 0 });
    // Resumed: a direct call releases nothing; the sweep releases and delivers the rest.
    const resumed = serviceAnswering(delivered);
    expect(await resumed.service.syncCertificationRenewed(direct.mentorId)).toMatchObject({
      result: { state: "held" },
    });
    expect({ sent: resumed.sent, states: await states() }).toEqual({
      sent: [],
      states: ["held", "held"],
    });
    expect(await resumed.service.dispatchDue()).toMatchObject({ released: 2, delivered: 2 });
  });
});
