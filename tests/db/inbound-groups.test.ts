// Deliveries written as one group (dynamics-webhook groups those that arrive together) get the
// verdicts and effects each would get alone: a replay inside the group is a duplicate, drift raises
// one issue and one corrective event, a confirmation confirms only its own mentor's event.
import { expect, it } from "vitest";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { useTestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";
import { listingChanged, listingConfirmed } from "../support/payload-factory.ts";

const db = useTestDatabase();

it("gives each delivery of a group its own verdict and effect", async () => {
  const agreeing = await createListedMentor(db().sql);
  const drifting = await createListedMentor(db().sql);
  const confirmed = await createListedMentor(db().sql);
  const [{ event_id: outboundId }] = await db().sql<{ event_id: string }[]>`
    select event_id from public.sync_events where mentor_id = ${confirmed.mentorId}`;
  const agree = listingChanged({ mentorId: agreeing.mentorId, listing: "listed" });
  const drift = listingChanged({ mentorId: drifting.mentorId, listing: "unlisted" });
  const unknown = listingChanged({ mentorId: crypto.randomUUID() });
  const confirm = listingConfirmed({ mentorId: confirmed.mentorId, inReplyTo: outboundId });
  const misnamed = listingConfirmed({ mentorId: agreeing.mentorId, inReplyTo: outboundId });
  const group = [agree, confirm, agree, drift, unknown, misnamed, confirm]
    .map((event) => ({ event, scheme: "standard-webhooks" }));

  expect(await receiveInbound(db().sql, group)).toEqual([
    { status: "accepted", effect: "portal agrees with the current state" },
    { status: "accepted", effect: `confirmed ${outboundId}` },
    { status: "duplicate" },
    { status: "accepted", effect: "drift: corrective certification.renewed queued" },
    { status: "accepted", effect: "unknown mentor" },
    { status: "accepted", effect: `no outbound event ${outboundId} for this mentor` },
    { status: "duplicate" },
  ]);

  const ledger = await db().sql<{ event_id: string; status: string }[]>`
    select event_id, status from public.cert_notification_log order by event_id`;
  // Confirmations and changes are one statement each, so only the set of rows is fixed.
  const byId = (a: { event_id: string }, b: { event_id: string }) =>
    a.event_id < b.event_id ? -1 : 1;
  expect(ledger).toEqual([
    { event_id: agree.eventId, status: "applied" },
    { event_id: confirm.eventId, status: "applied" },
    { event_id: drift.eventId, status: "applied" },
    { event_id: unknown.eventId, status: "ignored" },
    { event_id: misnamed.eventId, status: "ignored" },
  ].sort(byId));
  const issues = await db().sql`
    select i.mentor_id, i.kind, e.event_type, i.detail->>'inboundEventId' as inbound
    from public.sync_issues i join public.sync_events e on e.event_id = i.event_id`;
  expect(issues).toEqual([{
    mentor_id: drifting.mentorId,
    kind: "drift",
    event_type: "certification.renewed",
    inbound: drift.eventId,
  }]);
  // Only the event the confirmation answers for its own mentor is confirmed.
  const confirmedEvents = await db().sql`
    select event_id from public.sync_events where confirmed_at is not null`;
  expect(confirmedEvents).toEqual([{ event_id: outboundId }]);

  // The same group again: every delivery is a replay, and nothing more is written.
  expect((await receiveInbound(db().sql, group)).map((r) => r.status)).toEqual(
    Array(group.length).fill("duplicate"),
  );
  const [{ n }] = await db().sql<{ n: number }[]>`
    select ((select count(*) from public.cert_notification_log)
         + (select count(*) from public.sync_issues))::int as n`;
  expect(n).toBe(6);
});
