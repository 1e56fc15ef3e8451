// Applies a verified, parsed inbound event exactly once, in ONE statement: the ledger insert
// (`ON CONFLICT (event_id) DO NOTHING`) and the effect are data-modifying CTEs of the same query, so
// a duplicate delivery changes nothing, a failure leaves no ledger row (Dynamics' retry is applied
// later), and no row lock is held across client round trips (measured: a multi-statement
// transaction here held sync_events rows while the dispatcher waited to record its results).
import type { Sql } from "./db.ts";
import type { InboundEventV1, ListingChangedV1, ListingConfirmedV1 } from "./contract/inbound.ts";

export type InboundResult = { status: "accepted"; effect: string } | { status: "duplicate" };

export async function receiveInbound(
  sql: Sql,
  event: InboundEventV1,
  signatureScheme: string,
): Promise<InboundResult> {
  const rows = event.eventType === "listing.confirmed"
    ? await confirm(sql, event, signatureScheme)
    : await reconcile(sql, event, signatureScheme);
  return rows.length === 0
    ? { status: "duplicate" }
    : { status: "accepted", effect: rows[0].effect };
}

type Applied = { effect: string }[];

// The verdict is computed from the state the statement sees, and the effects run only if the ledger
// insert did: CTEs cannot see each other's writes, so the ledger row is written complete at once.
function confirm(sql: Sql, event: ListingConfirmedV1, scheme: string): Promise<Applied> {
  return sql<Applied>`
    with target as (
      select exists (
        select 1 from public.sync_events
        where event_id = ${event.inReplyTo} and mentor_id = ${event.mentorId}
      ) as found
    ), logged as (
      insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme,
        payload, status, effect, processed_at)
      select ${event.eventId}, ${event.eventType}, ${event.mentorId}, ${scheme},
        ${sql.json(event as never)},
        case when found then 'applied' else 'ignored' end,
        case when found then 'confirmed ' || ${event.inReplyTo}::text
             else 'no outbound event ' || ${event.inReplyTo}::text || ' for this mentor' end,
        now()
      from target
      on conflict (event_id) do nothing
      returning effect
    ), confirmed as (
      update public.sync_events
      set confirmed_at = coalesce(confirmed_at, ${event.occurredAt}::timestamptz)
      where event_id = ${event.inReplyTo} and mentor_id = ${event.mentorId}
        and exists (select 1 from logged)
      returning event_id
    )
    select effect from logged`;
}

// A listing changed in the portal that contradicts the mentor's current state is drift: a
// coordinator is told (sync_issues), and a corrective event re-asserts the state this service owns.
function reconcile(sql: Sql, event: ListingChangedV1, scheme: string): Promise<Applied> {
  const portalListed = event.listing === "listed";
  return sql<Applied>`
    with mentor as (
      select coalesce(s.listed, false) as listed,
        case when coalesce(s.listed, false) then 'certification.renewed'
             else 'certification.expired' end as corrective_type
      from public.peer_mentors m
      left join public.mentor_listing_state s on s.mentor_id = m.id
      where m.id = ${event.mentorId}
    ), verdict as (
      select case when mentor.listed is null then 'ignored' else 'applied' end as status,
        case when mentor.listed is null then 'unknown mentor'
             when mentor.listed <> ${portalListed}
               then 'drift: corrective ' || mentor.corrective_type || ' queued'
             else 'portal agrees with the current state' end as effect
      from (select 1) one left join mentor on true
    ), logged as (
      insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme,
        payload, status, effect, processed_at)
      select ${event.eventId}, ${event.eventType}, ${event.mentorId}, ${scheme},
        ${sql.json(event as never)}, verdict.status, verdict.effect, now()
      from verdict
      on conflict (event_id) do nothing
      returning effect
    ), corrective as (
      select e.event_id
      from mentor
      cross join lateral public.enqueue_sync_event(${event.mentorId}::uuid, mentor.corrective_type) e
      where mentor.listed <> ${portalListed} and exists (select 1 from logged)
    ), issue as (
      insert into public.sync_issues (mentor_id, kind, event_id, detail)
      select ${event.mentorId}, 'drift', corrective.event_id, jsonb_build_object(
        'portalListing', ${event.listing}::text,
        'expectedListing', case when mentor.listed then 'listed' else 'unlisted' end,
        'inboundEventId', ${event.eventId}::text,
        'changedBy', ${event.changedBy ?? null}::text,
        'reason', ${event.reason ?? null}::text)
      from corrective, mentor
      returning id
    )
    select effect from logged`;
}
