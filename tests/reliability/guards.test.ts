// Issue 16, item 6: guards that existed in the code with no test failing when they were removed.
// Each test below names the guard it protects and fails, for that reason, without it (each was
// checked by removing the guard by hand; see RELIABILITY.md, "Guards and the tests that catch them").
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { requeueFailedEvents } from "../../shared/outbox/sync-queries.ts";
import { asRole, claims, useTestDatabase } from "../support/db.ts";
import { createListedMentor, settleOutbox } from "../support/factories.ts";
import {
  createIsolationWorld,
  type IsolationWorld,
  type Mentor,
} from "../support/isolation-world.ts";
import { listingConfirmed } from "../support/payload-factory.ts";

const db = useTestDatabase();

const eventsOf = (mentorId: string) =>
  db().sql<{ event_id: string; event_type: string; state: string; confirmed_at: Date | null }[]>`
    select event_id, event_type, state, confirmed_at from public.sync_events
     where mentor_id = ${mentorId} order by id`;

describe("re-queueing dead letters (requeueFailedEvents)", () => {
  beforeEach(() => settleOutbox(db().sql));

  it("skips a dead letter made moot by a newer, delivered event of its mentor", async () => {
    // A renewal in flight (leased) when the certification expires: the expiry does not supersede it.
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db().sql`
      update public.sync_events set state = 'pending', lease_owner = 'dispatcher-1',
        lease_expires_at = now() + interval '1 minute'
       where mentor_id = ${mentorId}`;
    await db()
      .sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    // The renewal is then dead-lettered and the expiry delivered.
    await db().sql`
      update public.sync_events
         set state = case event_type when 'certification.renewed' then 'failed' else 'delivered' end,
             lease_owner = null, lease_expires_at = null
       where mentor_id = ${mentorId}`;
    expect((await eventsOf(mentorId)).map((e) => [e.event_type, e.state])).toEqual([
      ["certification.renewed", "failed"],
      ["certification.expired", "delivered"],
    ]);

    // Re-queueing it would send the renewal after the expiry and list an uncertified mentor.
    expect(await requeueFailedEvents(db().sql, { mentorId })).toHaveLength(0);
    expect(await requeueFailedEvents(db().sql)).toHaveLength(0);
    expect((await eventsOf(mentorId)).map((e) => e.state)).toEqual(["failed", "delivered"]);
  });

  it("re-queues a dead letter that is still its mentor's newest event", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    await db().sql`update public.sync_events set state = 'failed' where mentor_id = ${mentorId}`;
    expect(await requeueFailedEvents(db().sql, { mentorId })).toHaveLength(1);
    expect((await eventsOf(mentorId)).map((e) => e.state)).toEqual(["pending"]);
  });
});

describe("a signed listing.confirmed", () => {
  it("confirms only an event of the mentor it names", async () => {
    const { mentorId: named } = await createListedMentor(db().sql);
    const { mentorId: other } = await createListedMentor(db().sql);
    const [otherEvent] = await eventsOf(other);

    // Names mentor `named` but replies to `other`'s event: recorded as ignored, confirms nothing.
    const wrong = listingConfirmed({ mentorId: named, inReplyTo: otherEvent.event_id });
    expect((await receiveInbound(db().sql, [{ event: wrong, scheme: "standard-webhooks" }]))[0])
      .toEqual({
        status: "accepted",
        effect: `no outbound event ${otherEvent.event_id} for this mentor`,
      });
    const [ledger] = await db().sql`
      select status from public.cert_notification_log where event_id = ${wrong.eventId}`;
    expect(ledger.status).toBe("ignored");
    expect((await eventsOf(other))[0].confirmed_at).toBeNull();

    // The same reply naming the right mentor confirms it.
    const right = listingConfirmed({ mentorId: other, inReplyTo: otherEvent.event_id });
    expect((await receiveInbound(db().sql, [{ event: right, scheme: "standard-webhooks" }]))[0])
      .toMatchObject({
        status: "accepted",
        effect: `confirmed ${otherEvent.event_id}`,
      });
    expect((await eventsOf(other))[0].confirmed_at).not.toBeNull();
  });
});

describe("private.viewable_mentor_ids() (list mode's driving set)", () => {
  let w: IsolationWorld<"mentorA1" | "coordA1" | "coordA2" | "coordB1">;
  beforeAll(async () => {
    w = await createIsolationWorld(db().sql);
  });

  const EXPECTED: Record<"mentorA1" | "coordA1" | "coordA2" | "coordB1", Mentor[]> = {
    mentorA1: ["onlyA1"],
    coordA1: ["onlyA1", "shared"],
    coordA2: ["shared", "onlyA2"],
    coordB1: ["onlyB1"],
  };

  it("returns exactly the caller's mentors, each once, whatever the policies would mask", async () => {
    const worldMentors = new Set(Object.values(w.mentors));
    for (const [login, mentors] of Object.entries(EXPECTED)) {
      // Called as the caller, but counted over every mentor of the database (the helper is
      // SECURITY DEFINER, so its result is not filtered by the caller's RLS).
      const ids = await asRole(
        db().sql,
        claims.user(w.users[login as keyof typeof EXPECTED]),
        (tx) => tx<{ id: string }[]>`select private.viewable_mentor_ids() as id`,
      );
      const names = ids.map((r) => r.id).filter((id) => worldMentors.has(id));
      expect({ login, count: ids.length, mentors: names.sort() }).toEqual({
        login,
        count: mentors.length,
        mentors: mentors.map((m) => w.mentors[m]).sort(),
      });
    }
  });

  it("returns nothing for a caller with no chapter and no mentor login", async () => {
    const ids = await asRole(
      db().sql,
      claims.user(crypto.randomUUID()),
      (tx) => tx`select private.viewable_mentor_ids() as id`,
    );
    expect(ids).toEqual([]);
  });
});
