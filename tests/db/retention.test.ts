// Retention (public.prune_sync_history through shared/retention.ts): old audit attempts and inbound
// ledger rows go, in batches; the rows that explain an undelivered event or an unresolved dead
// letter stay, however old.
import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { pruneHistory } from "../../shared/retention.ts";
import { asRole, claims, useTestDatabase } from "../support/db.ts";
import { createListedMentor, createUser } from "../support/factories.ts";

const db = useTestDatabase();
beforeEach(async () => {
  await db().sql`delete from public.dynamics_sync_attempts`;
  await db().sql`delete from public.cert_notification_log`;
  await db().sql`delete from public.sync_issues`;
});

const POLICY = { maxAgeDays: 90, batchSize: 1000 };

/** A mentor whose one event is in `state`, with `attempts` audit rows `ageDays` old. */
async function mentorWithEvent(state: string, o: { attempts?: number; ageDays?: number } = {}) {
  const { mentorId } = await createListedMentor(db().sql);
  const [event] = await db().sql<{ event_id: string }[]>`
    update public.sync_events set state = ${state} where mentor_id = ${mentorId}
    returning event_id`;
  const age = `${o.ageDays ?? 100} days`;
  for (let n = 1; n <= (o.attempts ?? 2); n++) {
    await db().sql`
      insert into public.dynamics_sync_attempts
        (event_id, mentor_id, attempt, dispatcher, started_at, outcome, http_status, created_at)
      values (${event.event_id}, ${mentorId}, ${n}, 'test', now() - ${age}::interval,
        ${state === "delivered" && n === 2 ? "delivered" : "retryable"}, 503,
        now() - ${age}::interval)`;
  }
  return { mentorId, eventId: event.event_id };
}

async function inbound(
  mentorId: string,
  o: { ageDays?: number } = {},
): Promise<string> {
  const eventId = randomUUID();
  await db().sql`
    insert into public.cert_notification_log
      (event_id, event_type, mentor_id, payload, status, received_at)
    values (${eventId}, 'listing.changed', ${mentorId}, '{}'::jsonb, 'applied',
      now() - ${`${o.ageDays ?? 100} days`}::interval)`;
  return eventId;
}

const attemptsOf = async (eventId: string) =>
  (await db().sql`select 1 from public.dynamics_sync_attempts where event_id = ${eventId}`).length;
const ledgerHas = async (eventId: string) =>
  (await db().sql`select 1 from public.cert_notification_log where event_id = ${eventId}`)
    .length ===
    1;

describe("prune_sync_history", () => {
  it("prunes old rows of settled mentors and keeps what explains unfinished work", async () => {
    const settled = await mentorWithEvent("delivered");
    const recent = await mentorWithEvent("delivered", { ageDays: 10 });
    const retrying = await mentorWithEvent("retrying");
    const pending = await mentorWithEvent("pending");
    const held = await mentorWithEvent("held");
    const deadLetter = await mentorWithEvent("failed");
    // Delivered, but a coordinator's issue names it.
    const openIssue = await mentorWithEvent("delivered");
    await db().sql`insert into public.sync_issues (mentor_id, kind, event_id)
      values (${openIssue.mentorId}, 'drift', ${openIssue.eventId})`;

    const oldSettledInbound = await inbound(settled.mentorId);
    const recentInbound = await inbound(settled.mentorId, { ageDays: 5 });
    const deadLetterInbound = await inbound(deadLetter.mentorId);
    const retryingInbound = await inbound(retrying.mentorId);
    const openIssueInbound = await inbound(openIssue.mentorId);

    const result = await pruneHistory(db().sql, POLICY);
    expect(result).toEqual({ attempts: 2, inbound: 1, batches: 1 });

    expect(await attemptsOf(settled.eventId)).toBe(0);
    expect(await attemptsOf(recent.eventId)).toBe(2);
    for (const kept of [retrying, pending, held, deadLetter, openIssue]) {
      expect(await attemptsOf(kept.eventId)).toBe(2);
    }
    expect(await ledgerHas(oldSettledInbound)).toBe(false);
    for (
      const kept of [
        recentInbound,
        deadLetterInbound,
        retryingInbound,
        openIssueInbound,
      ]
    ) {
      expect(await ledgerHas(kept)).toBe(true);
    }

    // Once the dead letter is resolved (its mentor re-synced), its history may go too.
    await db()
      .sql`update public.sync_events set state = 'delivered' where event_id = ${deadLetter.eventId}`;
    expect(await pruneHistory(db().sql, POLICY)).toEqual({ attempts: 2, inbound: 1, batches: 1 });
    expect(await attemptsOf(deadLetter.eventId)).toBe(0);
  });

  it("works in batches until one comes back short", async () => {
    for (let i = 0; i < 3; i++) await mentorWithEvent("delivered", { attempts: 2 });
    const result = await pruneHistory(db().sql, { maxAgeDays: 90, batchSize: 2 });
    expect(result).toEqual({ attempts: 6, inbound: 0, batches: 4 });
    const [left] = await db().sql`select count(*)::int as n from public.dynamics_sync_attempts`;
    expect(left.n).toBe(0);
  });

  it("stops after maxBatches, leaving the rest for the next run", async () => {
    for (let i = 0; i < 3; i++) await mentorWithEvent("delivered", { attempts: 2 });
    const result = await pruneHistory(db().sql, { maxAgeDays: 90, batchSize: 2 }, {
      maxBatches: 1,
    });
    expect(result).toEqual({ attempts: 2, inbound: 0, batches: 1 });
  });

  it("refuses an age under a day or a non-positive batch, and is not callable by users", async () => {
    await expect(db().sql`select * from public.prune_sync_history(interval '1 hour', 10)`)
      .rejects.toThrow(/max age of at least 1 day/);
    await expect(db().sql`select * from public.prune_sync_history(interval '90 days', 0)`)
      .rejects.toThrow(/positive batch size/);
    const user = await createUser(db().sql);
    await expect(
      asRole(
        db().sql,
        claims.user(user.id),
        (tx) => tx`select * from public.prune_sync_history(interval '90 days', 10)`,
      ),
    ).rejects.toThrow(/permission denied/);
  });
});
