import { beforeEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../support/db.ts";
import { renewalRecords } from "../support/payload-factory.ts";
import {
  createCertification,
  createListedMentor,
  createMentor,
  daysFromNow,
  letCertificationsLapse,
} from "../support/factories.ts";

const db = useTestDatabase();

interface EventRow {
  id: string;
  event_type: string;
  certification_status: string;
  expiry_date: Date | null;
  state: string;
}

let mark = 0n;
beforeEach(async () => {
  const [{ max }] = await db()
    .sql`select coalesce(max(id), 0)::text as max from public.sync_events`;
  mark = BigInt(max);
});

/** Events written since the current test started, oldest first. */
function newEvents(mentorId: string): Promise<EventRow[]> {
  return db().sql<EventRow[]>`
    select id::text, event_type, certification_status, expiry_date, state
      from public.sync_events
     where mentor_id = ${mentorId} and id > ${mark.toString()}::bigint
     order by sync_events.id`;
}

async function listed(mentorId: string): Promise<boolean | undefined> {
  const [row] = await db().sql`
    select listed from public.mentor_listing_state where mentor_id = ${mentorId}`;
  return row?.listed;
}

describe("listing flips write sync events", () => {
  it("a new mentor without certification is unlisted and produces no event", async () => {
    const mentor = await createMentor(db().sql);
    expect(await listed(mentor.id)).toBe(false);
    expect(await newEvents(mentor.id)).toEqual([]);
  });

  it("an active certification lists the mentor: exactly one renewed event with snapshots", async () => {
    const mentor = await createMentor(db().sql);
    const expiresAt = daysFromNow(30);
    await createCertification(db().sql, { mentorId: mentor.id, expiresAt });
    const events = await newEvents(mentor.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: "certification.renewed",
      certification_status: "active",
      expiry_date: expiresAt,
      state: "pending",
    });
    expect(await listed(mentor.id)).toBe(true);
  });

  it("an update that changes nothing the payload shows writes nothing", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const before = (await newEvents(mentorId)).length;
    await db().sql`update public.certifications
                    set expires_at = expires_at, status = 'active', renewal_history = renewal_history
                  where id = ${certificationId}`;
    await db().sql`update public.certifications set issued_at = issued_at - interval '1 day'
                  where id = ${certificationId}`;
    await db().sql`update public.peer_mentors set full_name = 'Renamed' where id = ${mentorId}`;
    await db().sql`update public.peer_mentors set status = 'active' where id = ${mentorId}`;
    expect(await newEvents(mentorId)).toHaveLength(before);
  });

  it("a rolled-back transaction leaves no event and no state change", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const before = await newEvents(mentorId);
    const rollback = new Error("roll back");
    await expect(
      db().sql.begin(async (tx) => {
        await tx`update public.certifications set status = 'revoked' where id = ${certificationId}`;
        const [{ n }] = await tx`select count(*)::int as n from public.sync_events
                                where mentor_id = ${mentorId} and id > ${mark.toString()}::bigint`;
        expect(n).toBe(before.length + 1);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await newEvents(mentorId)).toEqual(before);
    expect(await listed(mentorId)).toBe(true);
  });

  it("pausing the mentor writes an expired event ('paused'); reactivating writes a renewed one", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    await db().sql`update public.peer_mentors set status = 'paused' where id = ${mentorId}`;
    await db().sql`update public.peer_mentors set status = 'active' where id = ${mentorId}`;
    const events = (await newEvents(mentorId)).slice(1);
    expect(events.map((e) => [e.event_type, e.certification_status])).toEqual([
      ["certification.expired", "paused"],
      ["certification.renewed", "active"],
    ]);
  });

  it.each([
    ["expired", "expired"],
    ["paused", "paused"],
    ["revoked", "paused"],
  ])("certification status %s unlists with snapshot %s", async (status, snapshot) => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db()
      .sql`update public.certifications set status = ${status} where id = ${certificationId}`;
    const [, removal] = await newEvents(mentorId);
    expect(removal).toMatchObject({
      event_type: "certification.expired",
      certification_status: snapshot,
    });
    expect(await listed(mentorId)).toBe(false);
  });

  it("a lapsed certification renewed to a new expiry is relisted", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await letCertificationsLapse(db().sql, [certificationId]);
    await db().sql`update public.certifications set expires_at = now() + interval '1 year'
                  where id = ${certificationId}`;
    // The listing never flipped (the lapse wrote nothing), but the expiry Dynamics shows changed.
    const [, renewal] = await newEvents(mentorId);
    expect(renewal.event_type).toBe("certification.renewed");
    await letCertificationsLapse(db().sql, [certificationId]);
    await db().sql`update public.certifications set issued_at = now() - interval '2 years'
                  where id = ${certificationId}`;
    // Neither status nor expiry changed: the listing is only recomputed by the nightly job.
    expect(await newEvents(mentorId)).toHaveLength(2);
  });

  it("deleting the certification unlists the mentor", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db().sql`delete from public.certifications where id = ${certificationId}`;
    const [, removal] = await newEvents(mentorId);
    expect(removal).toMatchObject({
      event_type: "certification.expired",
      certification_status: "expired",
      expiry_date: null,
    });
  });

  it("one statement flipping many mentors writes one event per mentor", async () => {
    const mentors = await Promise.all(
      Array.from({ length: 30 }, () => createListedMentor(db().sql)),
    );
    const ids = mentors.map((m) => m.mentorId);
    await db().sql`update public.peer_mentors set status = 'paused' where id = any(${ids}::uuid[])`;
    const [{ n }] = await db().sql`
      select count(*)::int as n from public.sync_events
       where mentor_id = any(${ids}::uuid[]) and event_type = 'certification.expired'`;
    expect(n).toBe(30);
  });
});

describe("state-based events: every change the payload shows", () => {
  it("an on-time renewal of a listed mentor sends certification.renewed with the new expiry", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const expiresAt = daysFromNow(430);
    await db()
      .sql`select public.append_certification_renewal(${certificationId}, now(), ${expiresAt})`;
    const events = await newEvents(mentorId);
    expect(events.map((e) => [e.event_type, e.state])).toEqual([
      ["certification.renewed", "superseded"],
      ["certification.renewed", "pending"],
    ]);
    expect(events[1]).toMatchObject({ certification_status: "active", expiry_date: expiresAt });
  });

  it("a new expiry of an unlisted mentor is sent as certification.expired", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db()
      .sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    const expiresAt = daysFromNow(-3);
    await db().sql`update public.certifications set expires_at = ${expiresAt}
                  where id = ${certificationId}`;
    const last = (await newEvents(mentorId)).at(-1);
    expect(last).toMatchObject({
      event_type: "certification.expired",
      certification_status: "expired",
      expiry_date: expiresAt,
    });
  });

  it("paused to revoked publishes the same status and writes nothing", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    await db()
      .sql`update public.certifications set status = 'paused' where id = ${certificationId}`;
    const before = (await newEvents(mentorId)).length;
    await db()
      .sql`update public.certifications set status = 'revoked' where id = ${certificationId}`;
    expect(await newEvents(mentorId)).toHaveLength(before);
  });

  it("only a change to the five newest entries counts as a change of the snapshot", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const history = renewalRecords(7);
    await db().sql`update public.certifications set renewal_history = ${db().sql.json(history)}
                  where id = ${certificationId}`;
    const afterSeed = (await newEvents(mentorId)).length;
    expect(afterSeed).toBe(2);
    // The oldest entry is outside the snapshot: editing it changes nothing Dynamics sees.
    const [oldest, ...rest] = history; // oldest first
    const edited = [{ ...oldest, renewed_by: null }, ...rest];
    expect(oldest.renewed_by).not.toBeNull();
    await db().sql`update public.certifications set renewal_history = ${db().sql.json(edited)}
                  where id = ${certificationId}`;
    expect(await newEvents(mentorId)).toHaveLength(afterSeed);
    const newest = [...edited.slice(0, -1), { ...edited.at(-1)!, renewed_by: null }];
    await db().sql`update public.certifications set renewal_history = ${db().sql.json(newest)}
                  where id = ${certificationId}`;
    expect(await newEvents(mentorId)).toHaveLength(afterSeed + 1);
  });
});

describe("superseding", () => {
  it("a newer event supersedes the mentor's older undelivered, unleased events only", async () => {
    const { mentorId, certificationId } = await createListedMentor(db().sql);
    const other = await createListedMentor(db().sql);
    await db()
      .sql`update public.certifications set status = 'paused' where id = ${certificationId}`;
    const [, paused] = await newEvents(mentorId);
    // The pause event is being delivered right now: a live lease protects it.
    await db().sql`update public.sync_events
                    set lease_owner = 'dispatcher-1', lease_expires_at = now() + interval '1 minute'
                  where id = ${paused.id}`;
    await db()
      .sql`update public.certifications set status = 'active' where id = ${certificationId}`;
    const states = (await newEvents(mentorId)).map((e) => [e.event_type, e.state]);
    expect(states).toEqual([
      ["certification.renewed", "superseded"],
      ["certification.expired", "pending"],
      ["certification.renewed", "pending"],
    ]);
    const [otherFirst] = await newEvents(other.mentorId);
    expect(otherFirst.state).toBe("pending");
  });

  it.each(["pending", "retrying", "held", "failed"])(
    "%s events are superseded, delivered ones are kept",
    async (state) => {
      const { mentorId } = await createListedMentor(db().sql);
      const [first] = await newEvents(mentorId);
      await db().sql`update public.sync_events set state = ${state} where id = ${first.id}`;
      const delivered = await db().sql`
        select * from public.enqueue_sync_event(${mentorId}, 'certification.renewed')`;
      await db().sql`update public.sync_events set state = 'delivered' where id = ${
        delivered[0].id
      }`;
      await db().sql`select public.enqueue_sync_event(${mentorId}, 'certification.expired')`;
      expect((await newEvents(mentorId)).map((e) => e.state)).toEqual([
        "superseded",
        "delivered",
        "pending",
      ]);
    },
  );

  it("an expired lease no longer protects an event", async () => {
    const { mentorId } = await createListedMentor(db().sql);
    const [first] = await newEvents(mentorId);
    await db().sql`update public.sync_events
                    set state = 'retrying', lease_owner = 'gone',
                        lease_expires_at = now() - interval '1 second'
                  where id = ${first.id}`;
    await db().sql`select public.enqueue_sync_event(${mentorId}, 'certification.renewed')`;
    expect((await newEvents(mentorId)).map((e) => e.state)).toEqual(["superseded", "pending"]);
  });
});
