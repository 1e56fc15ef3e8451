// End to end with the local nudge on (no manual sweeps): every change Dynamics shows reaches the
// sandbox, a change of nothing sends nothing, and stored data can never block a removal.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListedMentor } from "../support/factories.ts";
import { FIXED_COORDINATOR_ID, renewalRecord } from "../support/payload-factory.ts";
import { eventually, startTestStack, type TestStack } from "../support/stack.ts";

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ scheduler: true });
});
afterAll(async () => {
  await t?.close();
});

/** Waits until the sandbox's listing of the mentor was set by the given event. */
function appliedEvent(mentorId: string, eventId: string) {
  return eventually(async () => {
    const listing = await t.sandbox.listing(mentorId);
    return listing?.lastEventId === eventId ? listing : undefined;
  });
}

async function latestEventId(mentorId: string): Promise<string> {
  const [row] = await t.db.sql<{ event_id: string }[]>`
    select event_id from public.sync_events where mentor_id = ${mentorId}
     order by id desc limit 1`;
  return row.event_id;
}

const appliedFor = async (mentorId: string) =>
  (await t.sandbox.events()).filter((e) => e.mentorId === mentorId);

describe("state-based events reach Dynamics", () => {
  it("an SQL renewal of a listed mentor reaches the sandbox with the new expiryDate", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await appliedEvent(mentorId, await latestEventId(mentorId));
    const expiresAt = new Date(Date.now() + 400 * 86_400_000);
    await t.db.sql`select public.append_certification_renewal(
      ${certificationId}, now(), ${expiresAt}, ${FIXED_COORDINATOR_ID})`;

    const listing = await appliedEvent(mentorId, await latestEventId(mentorId));
    expect(listing).toMatchObject({
      listing: "listed",
      lastEventType: "certification.renewed",
      expiryDate: expiresAt.toISOString(),
    });
    expect(listing.renewalHistory?.[0]).toMatchObject({
      expiresAt: expiresAt.toISOString(),
      renewedBy: FIXED_COORDINATOR_ID,
    });
  });

  it("an update that changes nothing sends nothing", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await appliedEvent(mentorId, await latestEventId(mentorId));
    const before = await appliedFor(mentorId);
    await t.db.sql`update public.certifications
                      set status = status, expires_at = expires_at, renewal_history = renewal_history
                    where id = ${certificationId}`;
    // A real change afterwards: the sandbox sees exactly one more event, and it is this one.
    await t.db.sql`update public.certifications set expires_at = expires_at + interval '1 day'
                    where id = ${certificationId}`;
    const changed = await latestEventId(mentorId);
    await appliedEvent(mentorId, changed);
    const after = await appliedFor(mentorId);
    expect(after.map((e) => e.eventId)).toEqual([...before.map((e) => e.eventId), changed]);
  });

  it("an expiry of a mentor with corrupted stored history is still a removal, and raises an issue", async () => {
    const { mentorId, certificationId } = await createListedMentor(t.db.sql);
    await appliedEvent(mentorId, await latestEventId(mentorId));
    // Data written past every rule (triggers off), as a bad import could.
    const corrupted = [
      renewalRecord({ renewed_by: "7c4a6d2f-2e6b-ec11-8f8f-000d3a4b1c2d" }),
      renewalRecord({ issued_at: "yesterday" }),
      renewalRecord({ issued_at: "2024-11-22T10:00:00.000Z" }),
    ];
    await t.db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.certifications set renewal_history = ${tx.json(corrupted)}
                where id = ${certificationId}`;
    });

    await t.db
      .sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    const eventId = await latestEventId(mentorId);
    const listing = await appliedEvent(mentorId, eventId);
    expect(listing).toMatchObject({ listing: "unlisted", lastEventType: "certification.expired" });
    expect(listing.renewalHistory?.map((e) => e.issuedAt)).toEqual(["2024-11-22T10:00:00.000Z"]);
    // The dispatcher records its result once the sandbox has answered: wait for it, not a race.
    await eventually(async () => {
      const [event] = await t.db
        .sql<{ state: string }[]>`select state from public.sync_events where event_id = ${eventId}`;
      return event.state === "delivered" ? event : undefined;
    });

    const issues = await t.db.sql`
      select kind, event_id, detail from public.sync_issues where mentor_id = ${mentorId}`;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: "invalid_renewal_history", event_id: eventId });
    expect(issues[0].detail.droppedEntries.map((i: { path: string }) => i.path)).toEqual([
      "renewalHistory.0.renewedBy",
      "renewalHistory.1.issuedAt",
    ]);
  });
});
