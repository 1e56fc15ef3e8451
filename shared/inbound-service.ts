// Applies verified, parsed inbound events exactly once, a group of them in ONE statement per event
// type: the ledger insert (`ON CONFLICT (event_id) DO NOTHING`) and the effects are data-modifying
// CTEs of the same query, so a duplicate delivery changes nothing, a failure leaves no ledger row
// (Dynamics' retry is applied later), and no row lock is held across client round trips (measured:
// a multi-statement transaction here held sync_events rows while the dispatcher waited to record
// its results). A group shares one statement, its triggers and one commit: Dynamics confirms every
// removal of a mass expiry, and those confirmations arrive together.
import type { Sql } from "./db.ts";
import type { InboundEventV1, ListingChangedV1, ListingConfirmedV1 } from "./contract/inbound.ts";

export type InboundResult = { status: "accepted"; effect: string } | { status: "duplicate" };

export interface InboundDelivery {
  event: InboundEventV1;
  /** The signature scheme that verified it, kept in the ledger. */
  scheme: string;
}

/** One verdict per delivery, in order. A group may carry one `eventId` twice: the first is accepted. */
export async function receiveInbound(
  sql: Sql,
  deliveries: readonly InboundDelivery[],
): Promise<InboundResult[]> {
  const confirmations = deliveries.filter(isConfirmation);
  const changes = deliveries.filter(isChange);
  const [confirmed, changed] = await Promise.all([
    confirmations.length > 0 ? confirm(sql, confirmations) : [],
    changes.length > 0 ? reconcile(sql, changes) : [],
  ]);
  const effects = new Map<string, string>();
  for (const row of [...confirmed, ...changed]) effects.set(row.event_id, row.effect);
  return deliveries.map(({ event }): InboundResult => {
    const effect = effects.get(event.eventId);
    if (effect === undefined) return { status: "duplicate" };
    effects.delete(event.eventId);
    return { status: "accepted", effect };
  });
}

type Confirmation = { event: ListingConfirmedV1; scheme: string };
type Change = { event: ListingChangedV1; scheme: string };
const isConfirmation = (d: InboundDelivery): d is Confirmation =>
  d.event.eventType === "listing.confirmed";
const isChange = (d: InboundDelivery): d is Change => d.event.eventType === "listing.changed";

type Logged = { event_id: string; effect: string }[];

const envelope = ({ event, scheme }: InboundDelivery, ord: number) => ({
  ord,
  event_id: event.eventId,
  event_type: event.eventType,
  mentor_id: event.mentorId,
  scheme,
  payload: event,
});

// The verdict is computed from the state the statement sees, and the effects run only for the
// events the ledger insert took: CTEs cannot see each other's writes, so each ledger row is written
// complete at once. Outbound events are found by an array of the input's ids, not by joining the
// input: the input's size is a guess to the planner (see finishRounds in
// shared/outbox/sync-queries.ts).
function confirm(sql: Sql, group: readonly Confirmation[]): Promise<Logged> {
  const input = group.map((d, ord) => ({
    ...envelope(d, ord),
    in_reply_to: d.event.inReplyTo,
    occurred_at: d.event.occurredAt,
  }));
  return sql<Logged>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(input as never)}::jsonb) as i(ord int,
        event_id uuid, event_type text, mentor_id uuid, scheme text, payload jsonb, in_reply_to uuid,
        occurred_at timestamptz)
    ), targets as (
      -- Locked in id order, the outbox's lock order (finishRounds, shared/outbox/sync-queries.ts).
      select e.id, e.event_id, e.mentor_id from public.sync_events e
      where e.event_id = any(array(select in_reply_to from input))
      order by e.id
      for update
    ), judged as (
      select i.*, exists (
        select 1 from targets t where t.event_id = i.in_reply_to and t.mentor_id = i.mentor_id
      ) as found
      from input i
    ), logged as (
      insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme,
        payload, status, effect, processed_at)
      select event_id, event_type, mentor_id, scheme, payload,
        case when found then 'applied' else 'ignored' end,
        case when found then 'confirmed ' || in_reply_to::text
             else 'no outbound event ' || in_reply_to::text || ' for this mentor' end,
        now()
      from judged
      order by ord
      on conflict (event_id) do nothing
      returning event_id, effect
    ), confirmed as (
      update public.sync_events e
      set confirmed_at = coalesce(e.confirmed_at, j.occurred_at)
      from (
        select distinct on (in_reply_to) in_reply_to, occurred_at from judged
        where found and event_id in (select event_id from logged)
        order by in_reply_to, ord
      ) j
      where e.id = any(array(select id from targets)) and e.event_id = j.in_reply_to
      returning e.event_id
    )
    select event_id::text, effect from logged`;
}

// A listing changed in the portal that contradicts the mentor's current state is drift: a
// coordinator is told (sync_issues), and a corrective event re-asserts the state this service owns.
function reconcile(sql: Sql, group: readonly Change[]): Promise<Logged> {
  const input = group.map((d, ord) => ({
    ...envelope(d, ord),
    listing: d.event.listing,
    changed_by: d.event.changedBy ?? null,
    reason: d.event.reason ?? null,
  }));
  return sql<Logged>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(input as never)}::jsonb) as i(ord int,
        event_id uuid, event_type text, mentor_id uuid, scheme text, payload jsonb, listing text,
        changed_by text, reason text)
    ), verdict as (
      select i.*, m.id is not null as known, coalesce(s.listed, false) as listed,
        m.id is not null and coalesce(s.listed, false) <> (i.listing = 'listed') as drift,
        case when coalesce(s.listed, false) then 'certification.renewed'
             else 'certification.expired' end as corrective_type
      from input i
      left join public.peer_mentors m on m.id = i.mentor_id
      left join public.mentor_listing_state s on s.mentor_id = m.id
    ), logged as (
      insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme,
        payload, status, effect, processed_at)
      select event_id, event_type, mentor_id, scheme, payload,
        case when known then 'applied' else 'ignored' end,
        case when not known then 'unknown mentor'
             when drift then 'drift: corrective ' || corrective_type || ' queued'
             else 'portal agrees with the current state' end,
        now()
      from verdict
      order by ord
      on conflict (event_id) do nothing
      returning event_id, effect
    ), drifted as (
      select distinct on (event_id) * from verdict
      where drift and event_id in (select event_id from logged)
      order by event_id, ord
    ), corrective as (
      -- Only when something drifted: the outbox and its triggers are not touched otherwise.
      select e.event_id, e.mentor_id
      from (select 1 where exists (select 1 from drifted)) any_drift
      cross join lateral public.enqueue_sync_events(
        array(select mentor_id from drifted order by ord),
        array(select corrective_type from drifted order by ord)) e
    ), issue as (
      insert into public.sync_issues (mentor_id, kind, event_id, detail)
      select d.mentor_id, 'drift', c.event_id, jsonb_build_object(
        'portalListing', d.listing,
        'expectedListing', case when d.listed then 'listed' else 'unlisted' end,
        'inboundEventId', d.event_id::text,
        'changedBy', d.changed_by,
        'reason', d.reason)
      from drifted d
      join corrective c on c.mentor_id = d.mentor_id
      returning id
    )
    select event_id::text, effect from logged`;
}
