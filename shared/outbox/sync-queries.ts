// The named queries of the outbox dispatcher. The invariants live in the database: claims take a
// lease under `FOR UPDATE SKIP LOCKED` (several dispatchers never hold the same event), an event is
// claimable only when no older event of its mentor is still undelivered (per-mentor order), and a
// result is written only by the dispatcher that still holds the lease.
import type { Sql } from "../db.ts";
import type { AttemptRecord } from "../dynamics/dynamics-client.ts";
import type { RenewalRecord } from "../contract/payload.ts";
import type { CertificationStatus, DeliveryState, EventType } from "../contract/vocabulary.ts";
import type { Issue } from "../contract/validation.ts";

type Tx = Sql;

export interface ClaimedEvent {
  id: string;
  eventId: string;
  mentorId: string;
  eventType: EventType;
  certificationStatus: CertificationStatus;
  expiryDate: Date;
  createdAt: Date;
  /** Dispatch rounds, this one included. */
  rounds: number;
  renewalHistory: RenewalRecord[];
}

interface ClaimRow {
  id: string;
  event_id: string;
  mentor_id: string;
  event_type: EventType;
  certification_status: CertificationStatus;
  expiry_date: Date;
  created_at: Date;
  rounds: number;
  renewal_history: RenewalRecord[] | null;
}

export interface ClaimOptions {
  owner: string;
  leaseSeconds: number;
  limit: number;
  /** Only this mentor's events (a direct call for one mentor). */
  mentorId?: string;
}

export async function claimDueEvents(sql: Tx, o: ClaimOptions): Promise<ClaimedEvent[]> {
  const rows = await sql<ClaimRow[]>`
    with candidates as (
      select e.id
      from public.sync_events e
      where private.sync_event_is_due(e) and private.sync_event_lease_is_free(e)
        and (${o.mentorId ?? null}::uuid is null or e.mentor_id = ${o.mentorId ?? null}::uuid)
        and not exists (
          select 1 from public.sync_events older
          where older.mentor_id = e.mentor_id and older.id < e.id
            and older.state in ('pending', 'retrying', 'held'))
      order by e.id
      limit ${o.limit}
      for update of e skip locked
    )
    update public.sync_events e
    set lease_owner = ${o.owner},
        lease_expires_at = now() + make_interval(secs => ${o.leaseSeconds}),
        rounds = e.rounds + 1,
        updated_at = now()
    from candidates
    where e.id = candidates.id
    returning e.id, e.event_id, e.mentor_id, e.event_type, e.certification_status, e.expiry_date,
      e.created_at, e.rounds,
      (select c.renewal_history from public.certifications c where c.mentor_id = e.mentor_id)
        as renewal_history`;
  return rows.map((r) => ({
    id: String(r.id),
    eventId: r.event_id,
    mentorId: r.mentor_id,
    eventType: r.event_type,
    certificationStatus: r.certification_status,
    expiryDate: r.expiry_date,
    createdAt: r.created_at,
    rounds: r.rounds,
    renewalHistory: r.renewal_history ?? [],
  })).sort((a, b) => Number(a.id) - Number(b.id));
}

/** A failed round's error: the redacted text and its stable technical code (`DeliveryFailure.code`). */
export interface FinishError {
  error: string;
  code: string;
}

export type Finish =
  | { state: "delivered"; status: number }
  | FinishError & {
    state: "retrying";
    nextAttemptAt: Date;
    status: number | null;
    /** No request was sent (circuit open): give back the round the claim counted. */
    refused?: boolean;
  }
  | FinishError & { state: "failed"; status: number | null };

export interface RoundResult {
  event: ClaimedEvent;
  attempts: readonly AttemptRecord[];
  finish: Finish;
}

/**
 * Records rounds' attempts and results, for many events in one statement (the statement-level
 * triggers behind it then run once for all of them). The attempts are written, and counted in the
 * event's `attempts`, whatever happens (they happened: the count stays equal to the audit rows); the
 * rest of the result applies only if this dispatcher still holds the lease. Returns, per input in
 * order, false where the lease was lost (another dispatcher re-claimed the event).
 */
export async function finishRounds(
  sql: Tx,
  owner: string,
  results: readonly RoundResult[],
): Promise<boolean[]> {
  if (results.length === 0) return [];
  const input = results.map(({ event, attempts, finish }) => ({
    id: Number(event.id),
    event_id: event.eventId,
    mentor_id: event.mentorId,
    state: finish.state,
    error: finish.state === "delivered" ? null : finish.error,
    error_code: finish.state === "delivered" ? null : finish.code,
    status: finish.status,
    next_attempt_at: finish.state === "retrying" ? finish.nextAttemptAt.toISOString() : null,
    refunded_rounds: finish.state === "retrying" && finish.refused ? 1 : 0,
    attempts: attempts.map((a) => ({
      n: a.attempt,
      started_at: a.startedAt.toISOString(),
      finished_at: a.finishedAt.toISOString(),
      duration_ms: Math.round(a.durationMs),
      http_status: a.status,
      outcome: a.outcome,
      error_code: a.errorCode,
      error: a.error,
    })),
  }));
  // The events by primary key and their audit rows by event id, never by joining the input to the
  // tables: the input's size is a guess (100 rows), and so are the tables' sizes while a mass
  // expiry grows them, which made every result write scan all of sync_events (bench scenario 9).
  // The id arrays are built in SQL from the input, not passed as JS arrays: the pool does not learn
  // the array types, so postgres.js would send those as "a,b" (shared/db.ts).
  // Lock order: a statement that updates several outbox rows locks them first, in id order, so two
  // such statements cannot deadlock (measured: grouped inbound confirmations and these writes, each
  // locking in its own input's order, deadlocked in bench scenario 2).
  const rows = await sql<{ id: string; held: boolean }[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(input)}::jsonb) as r(id bigint, event_id uuid,
        mentor_id uuid, state text, error text, error_code text, status int, next_attempt_at timestamptz,
        refunded_rounds int, attempts jsonb)
    ), locked as (
      -- Read under the row lock, so the lease cannot change hands before this statement commits.
      select e.id, e.lease_owner is not distinct from ${owner} as held from public.sync_events e
      where e.id = any(array(select id from input))
      order by e.id
      for update
    ), previous as (
      select event_id, max(attempt) as n
      from public.dynamics_sync_attempts
      where event_id = any(array(select event_id from input))
      group by event_id
    ), recorded as (
      insert into public.dynamics_sync_attempts (event_id, mentor_id, attempt, dispatcher,
        started_at, finished_at, duration_ms, http_status, outcome, error_code, error)
      select i.event_id, i.mentor_id, coalesce(p.n, 0) + a.n, ${owner},
        a.started_at, a.finished_at, a.duration_ms, a.http_status, a.outcome, a.error_code, a.error
      from input i
      left join previous p on p.event_id = i.event_id
      cross join lateral jsonb_to_recordset(i.attempts) as a(n int, started_at timestamptz,
        finished_at timestamptz, duration_ms int, http_status int, outcome text, error_code text,
        error text)
      returning event_id
    ), recorded_counts as (
      select event_id, count(*)::int as n from recorded group by event_id
    )
    update public.sync_events e
    set attempts = e.attempts + coalesce(c.n, 0),
        state = case when l.held then i.state else e.state end,
        rounds = case when l.held then e.rounds - i.refunded_rounds else e.rounds end,
        delivered_at = case when l.held and i.state = 'delivered' then now() else e.delivered_at end,
        next_attempt_at = case when l.held then coalesce(i.next_attempt_at, e.next_attempt_at)
                               else e.next_attempt_at end,
        last_error = case when l.held then i.error else e.last_error end,
        last_error_code = case when l.held then i.error_code else e.last_error_code end,
        last_status = case when l.held then i.status else e.last_status end,
        lease_owner = case when l.held then null else e.lease_owner end,
        lease_expires_at = case when l.held then null else e.lease_expires_at end,
        updated_at = now()
    from input i
    join locked l on l.id = i.id
    left join recorded_counts c on c.event_id = i.event_id
    where e.id = any(array(select id from locked)) and e.id = i.id
      and (l.held or c.n is not null)
    returning e.id, l.held`;
  const kept = new Set(rows.filter((r) => r.held).map((r) => String(r.id)));
  return results.map((r) => kept.has(r.event.id));
}

/** The channel the outbox trigger NOTIFYs when an event becomes due (the dispatch nudge). */
export const SYNC_CHANNEL = "dynamics_sync";

/** Whether any event is due and unleased: the poll that stands in for the nudge where NOTIFY does not reach. */
export async function hasDueEvents(sql: Tx): Promise<boolean> {
  const [row] = await sql<{ due: boolean }[]>`
    select exists (
      select 1 from public.sync_events e
      where private.sync_event_is_due(e) and private.sync_event_lease_is_free(e)
    ) as due`;
  return row.due;
}

/** Whether delivery is paused: the pause switch row, or `defaultEnabled` (the env flag) without one. */
export async function deliveryPaused(sql: Tx, defaultEnabled: boolean): Promise<boolean> {
  const [row] = await sql<{ paused: boolean }[]>`
    select public.sync_delivery_paused(${defaultEnabled}) as paused`;
  return row.paused;
}

/** Paused: due events wait as `held` instead of being sent. */
export async function holdDueEvents(sql: Tx): Promise<number> {
  const rows = await sql`
    update public.sync_events e set state = 'held', updated_at = now()
    where e.state in ('pending', 'retrying') and private.sync_event_lease_is_free(e)
    returning id`;
  return rows.length;
}

/** Resumed: held events become due again, in their original order. */
export async function releaseHeldEvents(sql: Tx): Promise<number> {
  const rows = await sql`
    update public.sync_events
    set state = 'pending', next_attempt_at = now(), lease_owner = null, lease_expires_at = null,
        updated_at = now()
    where state = 'held'
    returning id`;
  return rows.length;
}

export interface RequeueFilter {
  mentorId?: string;
  /** Only dead letters that failed at or after this time (Svix-style recovery). */
  failedSince?: Date;
}

/**
 * Re-queues dead letters (all, one mentor's, or those failed since a time) with a fresh round
 * budget, never one a newer event of its mentor has made moot (resending an old renewal after a
 * delivered expiry would list an uncertified mentor). Awaited it runs alone; as a fragment of
 * another statement, that statement can act on what it re-queued (`recoverDeadLetters`).
 */
export function requeueFailedEvents(sql: Tx, f: RequeueFilter = {}) {
  return sql<{ eventId: string; mentorId: string }[]>`
    update public.sync_events
    set state = 'pending', next_attempt_at = now(), rounds = 0, updated_at = now()
    where state = 'failed'
      and (${f.mentorId ?? null}::uuid is null or mentor_id = ${f.mentorId ?? null}::uuid)
      and (${f.failedSince ?? null}::timestamptz is null
        or updated_at >= ${f.failedSince ?? null}::timestamptz)
      and not exists (
        select 1 from public.sync_events newer
        where newer.mentor_id = sync_events.mentor_id and newer.id > sync_events.id
          and newer.state <> 'superseded')
    returning event_id as "eventId", mentor_id as "mentorId"`;
}

export interface EventRow {
  eventId: string;
  mentorId: string;
  eventType: EventType;
  state: DeliveryState;
  attempts: number;
}

const eventColumns = (sql: Tx) =>
  sql`event_id as "eventId", mentor_id as "mentorId", event_type as "eventType", state, attempts`;

export async function getEvent(sql: Tx, eventId: string): Promise<EventRow | null> {
  const [row] = await sql<EventRow[]>`
    select ${eventColumns(sql)} from public.sync_events where event_id = ${eventId}`;
  return row ?? null;
}

/** The mentor's newest event that is not superseded, or null. */
export async function latestEvent(sql: Tx, mentorId: string): Promise<EventRow | null> {
  const [row] = await sql<EventRow[]>`
    select ${eventColumns(sql)} from public.sync_events
    where mentor_id = ${mentorId} and state <> 'superseded'
    order by id desc limit 1`;
  return row ?? null;
}

export interface MentorListing {
  mentorId: string;
  listed: boolean;
}

/** Whether the mentor exists and should be publicly listed now (the derived listing state). */
export async function mentorListing(sql: Tx, mentorId: string): Promise<MentorListing | null> {
  const [row] = await sql<{ listed: boolean | null }[]>`
    select s.listed from public.peer_mentors m
    left join public.mentor_listing_state s on s.mentor_id = m.id
    where m.id = ${mentorId}`;
  return row ? { mentorId, listed: row.listed ?? false } : null;
}

export async function enqueueEvent(sql: Tx, mentorId: string, type: EventType): Promise<EventRow> {
  const [row] = await sql<EventRow[]>`
    select event_id as "eventId", mentor_id as "mentorId", event_type as "eventType", state, attempts
    from public.enqueue_sync_event(${mentorId}::uuid, ${type}::text)`;
  return row;
}

/**
 * Stored renewal entries had to be left out of an event's payload: one open issue per event for
 * coordinators (a later round of the same event does not add another).
 */
export async function raiseInvalidHistoryIssue(
  sql: Tx,
  event: { eventId: string; mentorId: string },
  issues: readonly Issue[],
): Promise<void> {
  await sql`
    insert into public.sync_issues (mentor_id, kind, event_id, detail)
    select ${event.mentorId}, 'invalid_renewal_history', ${event.eventId},
      jsonb_build_object('droppedEntries', ${sql.json(issues as never)}::jsonb)
    where not exists (
      select 1 from public.sync_issues
      where mentor_id = ${event.mentorId} and kind = 'invalid_renewal_history'
        and event_id = ${event.eventId})`;
}
