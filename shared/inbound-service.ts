// Applies a verified, parsed inbound event exactly once. The ledger insert
// (`ON CONFLICT (event_id) DO NOTHING`) and the effect share one transaction: a duplicate delivery
// changes nothing, and a failure leaves no ledger row, so Dynamics' retry is applied later.
import type { Sql } from "./db.ts";
import type { InboundEventV1 } from "./inbound.ts";

export type InboundResult = { status: "accepted"; effect: string } | { status: "duplicate" };

export async function receiveInbound(
  sql: Sql,
  event: InboundEventV1,
  signatureScheme: string,
): Promise<InboundResult> {
  return await sql.begin(async (tx) => {
    const inserted = await tx`
      insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme, payload)
      values (${event.eventId}, ${event.eventType}, ${event.mentorId}, ${signatureScheme},
        ${tx.json(event as never)})
      on conflict (event_id) do nothing
      returning id`;
    if (inserted.count === 0) return { status: "duplicate" } as const;
    const { status, effect } = event.eventType === "listing.confirmed"
      ? await confirm(tx as unknown as Sql, event)
      : await reconcile(tx as unknown as Sql, event);
    await tx`
      update public.cert_notification_log
      set status = ${status}, effect = ${effect}, processed_at = now()
      where id = ${inserted[0].id}`;
    return { status: "accepted", effect } as const;
  }) as InboundResult;
}

type Applied = { status: "applied" | "ignored"; effect: string };

async function confirm(
  sql: Sql,
  event: Extract<InboundEventV1, { eventType: "listing.confirmed" }>,
): Promise<Applied> {
  const rows = await sql`
    update public.sync_events set confirmed_at = coalesce(confirmed_at, ${event.occurredAt}::timestamptz)
    where event_id = ${event.inReplyTo} and mentor_id = ${event.mentorId}
    returning event_id`;
  return rows.length === 1
    ? { status: "applied", effect: `confirmed ${event.inReplyTo}` }
    : { status: "ignored", effect: `no outbound event ${event.inReplyTo} for this mentor` };
}

// A listing changed in the portal that contradicts the mentor's current state is drift: a
// coordinator is told, and a corrective event re-asserts the state this service owns.
async function reconcile(
  sql: Sql,
  event: Extract<InboundEventV1, { eventType: "listing.changed" }>,
): Promise<Applied> {
  const [mentor] = await sql<{ listed: boolean | null }[]>`
    select s.listed from public.peer_mentors m
    left join public.mentor_listing_state s on s.mentor_id = m.id
    where m.id = ${event.mentorId}`;
  if (!mentor) return { status: "ignored", effect: "unknown mentor" };
  const listed = mentor.listed ?? false;
  if ((event.listing === "listed") === listed) {
    return { status: "applied", effect: "portal agrees with the current state" };
  }
  const corrective = listed ? "certification.renewed" : "certification.expired";
  const [issue] = await sql`
    with corrective as (
      select event_id from public.enqueue_sync_event(${event.mentorId}::uuid, ${corrective}::text)
    )
    insert into public.sync_issues (mentor_id, kind, event_id, detail)
    select ${event.mentorId}, 'drift', corrective.event_id, ${
    sql.json({
      portalListing: event.listing,
      expectedListing: listed ? "listed" : "unlisted",
      inboundEventId: event.eventId,
      changedBy: event.changedBy ?? null,
      reason: event.reason ?? null,
    })
  }
    from corrective
    returning event_id`;
  return { status: "applied", effect: `drift: corrective event ${issue.event_id}` };
}
