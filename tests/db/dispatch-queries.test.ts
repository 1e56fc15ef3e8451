// The dispatcher's named queries against the real schema: leases, per-mentor order, lost leases,
// and the hold/release/requeue transitions.
import { beforeEach, describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../shared/dynamics/dynamics-client.ts";
import {
  claimDueEvents,
  type ClaimedEvent,
  type Finish,
  finishRounds,
  holdDueEvents,
  releaseHeldEvents,
  requeueFailedEvents,
} from "../../shared/outbox/sync-queries.ts";
import { type TestDatabase, useTestDatabase } from "../support/db.ts";
import { attemptRecord } from "../support/attempt-record.ts";
import { createListedMentor, settleOutbox } from "../support/factories.ts";

const db = useTestDatabase();
beforeEach(() => settleOutbox(db().sql));

/** One round's result through the batched writer the dispatcher uses. */
async function finishRound(
  sql: TestDatabase["sql"],
  event: ClaimedEvent,
  owner: string,
  attempts: AttemptRecord[],
  finish: Finish,
): Promise<boolean> {
  const [kept] = await finishRounds(sql, owner, [{ event, attempts, finish }]);
  return kept;
}

const claim = (owner: string, limit = 100, leaseSeconds = 60) =>
  claimDueEvents(db().sql, { owner, leaseSeconds, limit });

describe("claimDueEvents", () => {
  it("leases each due event to one owner and carries what the payload needs", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const first = await claim("a");
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      mentorId,
      eventType: "certification.renewed",
      certificationStatus: "active",
      rounds: 1,
      renewalHistory: [],
    });
    expect(await claim("b")).toEqual([]);
    const [row] = await db().sql`select lease_owner from public.sync_events where event_id = ${
      first[0].eventId
    }`;
    expect(row.lease_owner).toBe("a");
  });

  it("re-claims an event whose lease expired, as after a crashed dispatcher", async () => {
    await createListedMentor(db().sql);
    const [event] = await claim("crashed", 100, 60);
    await db()
      .sql`update public.sync_events set lease_expires_at = now() - interval '1 second' where id = ${event.id}`;
    const [again] = await claim("survivor");
    expect(again.eventId).toBe(event.eventId);
    expect(again.rounds).toBe(2);
    expect(
      await finishRound(db().sql, event, "crashed", [attemptRecord({ status: 200 })], {
        state: "delivered",
        status: 200,
      }),
    )
      .toBe(false);
    expect(
      await finishRound(db().sql, again, "survivor", [attemptRecord({ status: 200 })], {
        state: "delivered",
        status: 200,
      }),
    )
      .toBe(true);
    const audit = await db().sql`select attempt, dispatcher from public.dynamics_sync_attempts
      where event_id = ${event.eventId} order by attempt`;
    expect(audit).toEqual([{ attempt: 1, dispatcher: "crashed" }, {
      attempt: 2,
      dispatcher: "survivor",
    }]);
    // Both attempts happened and are audited, so both count; the result is the lease holder's.
    const [row] = await db().sql`
      select attempts, state, lease_owner from public.sync_events where id = ${event.id}`;
    expect(row).toEqual({ attempts: 2, state: "delivered", lease_owner: null });
  });

  // One transaction pins now(), so "exactly at the instant" is testable: due and lease-free are
  // inclusive (private.sync_event_is_due / sync_event_lease_is_free), for claim, hold and supersede.
  it("treats an event as due, and a lease as run out, at the very instant named", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const at = (tx: TestDatabase["sql"], dueIn: string, leaseIn: string) =>
      tx`update public.sync_events
        set next_attempt_at = now() + ${dueIn}::interval, lease_owner = 'old',
            lease_expires_at = now() + ${leaseIn}::interval
        where mentor_id = ${mentorId} and state = 'pending'`;
    const inTx = <T>(f: (tx: TestDatabase["sql"]) => Promise<T>) =>
      db().sql.begin((tx) => f(tx as unknown as TestDatabase["sql"])) as Promise<T>;
    const claimIn = (tx: TestDatabase["sql"]) =>
      claimDueEvents(tx, { owner: "edge", leaseSeconds: 60, limit: 10, mentorId });

    expect(
      await inTx(async (tx) => {
        await at(tx, "1 microsecond", "0");
        return (await claimIn(tx)).length;
      }),
    ).toBe(0);
    expect(
      await inTx(async (tx) => {
        await at(tx, "0", "1 microsecond");
        return (await claimIn(tx)).length;
      }),
    ).toBe(0);
    const held = await inTx(async (tx) => {
      await at(tx, "0", "0");
      return await holdDueEvents(tx);
    });
    expect(held).toBe(1);
    await releaseHeldEvents(db().sql);
    expect(
      await inTx(async (tx) => {
        await at(tx, "0", "0");
        return (await claimIn(tx)).length;
      }),
    ).toBe(1);

    const superseded = await inTx(async (tx) => {
      await tx`update public.sync_events set lease_expires_at = now()
        where mentor_id = ${mentorId} and state = 'pending'`;
      await tx`select public.enqueue_sync_event(${mentorId}::uuid, 'certification.renewed')`;
      return await tx<{ state: string }[]>`select state from public.sync_events
        where mentor_id = ${mentorId} order by id`;
    });
    expect(superseded.map((r) => r.state)).toEqual(["superseded", "pending"]);
  });

  it("never hands out a mentor's newer event while an older one is undelivered", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const [renewed] = await claim("a");
    await db()
      .sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    expect(await claim("b")).toEqual([]);
    await finishRound(db().sql, renewed, "a", [attemptRecord({ status: 200 })], {
      state: "delivered",
      status: 200,
    });
    const [expired] = await claim("b");
    expect(expired).toMatchObject({ mentorId, eventType: "certification.expired" });
  });

  it("reschedules a failed round into the future and counts its attempts", async () => {
    await createListedMentor(db().sql);
    const [event] = await claim("a");
    const next = new Date(Date.now() + 60_000);
    await finishRound(db().sql, event, "a", [
      attemptRecord({ status: 503 }),
      attemptRecord({ attempt: 2, status: 503 }),
    ], {
      state: "retrying",
      nextAttemptAt: next,
      error: "http_503: service unavailable",
      code: "http_503",
      status: 503,
    });
    expect(await claim("a")).toEqual([]);
    const [row] = await db()
      .sql`select state, attempts, rounds, last_status, last_error_code, next_attempt_at
      from public.sync_events where event_id = ${event.eventId}`;
    expect(row).toMatchObject({
      state: "retrying",
      attempts: 2,
      rounds: 1,
      last_status: 503,
      last_error_code: "http_503",
    });
    expect(row.next_attempt_at.getTime()).toBe(next.getTime());
  });
});

describe("hold, release and requeue", () => {
  it("holds due events, releases them in order, and requeues dead letters", async () => {
    const a = await createListedMentor(db().sql);
    const b = await createListedMentor(db().sql);
    expect(await holdDueEvents(db().sql)).toBe(2);
    expect(await claim("x")).toEqual([]);
    expect(await releaseHeldEvents(db().sql)).toBe(2);
    const claimed = await claim("x");
    expect(claimed.map((e) => e.mentorId)).toEqual([a.mentorId, b.mentorId]);
    await finishRound(db().sql, claimed[0], "x", [], {
      state: "failed",
      error: "http_400: bad",
      code: "http_400",
      status: 400,
    });
    expect(await requeueFailedEvents(db().sql, { mentorId: b.mentorId })).toEqual([]);
    expect(await requeueFailedEvents(db().sql, { mentorId: a.mentorId })).toEqual([
      { eventId: claimed[0].eventId, mentorId: a.mentorId },
    ]);
    const [row] = await db().sql`select state, rounds from public.sync_events where event_id = ${
      claimed[0].eventId
    }`;
    expect(row).toEqual({ state: "pending", rounds: 0 });
  });
});
