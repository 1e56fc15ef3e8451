// Sync status reads: one mentor (getSyncStatus) and the dashboard's list mode, each ONE statement.
// Sent through `callerSql` (caller-context.ts) they see exactly what row-level security lets the
// caller see, in one round trip.
import type { SyncStatus, SyncStatusListItem, SyncStatusPage } from "./contract/api.ts";
import type { SyncState } from "./contract/vocabulary.ts";
import { coordinatorView } from "./contract/coordinator-errors.ts";
import { type CallerSql, type Part, part } from "./http/caller-context.ts";

interface StatusRow {
  mentor_id: string;
  state: SyncStatus["state"];
  listing: SyncStatus["listing"];
  last_event_id: string | null;
  last_event_type: SyncStatus["lastEventType"];
  last_attempt_at: Date | null;
  last_success_at: Date | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  last_error_code: string | null;
  updated_at: Date;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toStatus(r: StatusRow, now: Date): SyncStatus {
  const view = coordinatorView({
    state: r.state,
    technicalCode: r.last_error_code,
    hasError: r.last_error !== null,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
  }, now);
  return {
    mentorId: r.mentor_id,
    state: r.state,
    listing: r.listing,
    lastEventId: r.last_event_id,
    lastEventType: r.last_event_type,
    lastAttemptAt: iso(r.last_attempt_at),
    lastSuccessAt: iso(r.last_success_at),
    attempts: r.attempts,
    nextAttemptAt: iso(r.next_attempt_at),
    lastError: r.last_error,
    errorCode: view.errorCode,
    summary: view.summary,
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function fetchSyncStatus(
  sql: CallerSql,
  mentorId: string,
  now: Date = new Date(),
): Promise<SyncStatus | null> {
  const [row] = await sql<StatusRow[]>`
    select mentor_id, state, listing, last_event_id, last_event_type, last_attempt_at,
      last_success_at, attempts, next_attempt_at, last_error, last_error_code, updated_at
    from public.mentor_sync_status where mentor_id = ${mentorId}`;
  return row ? toStatus(row, now) : null;
}

export interface ListFilter {
  state?: SyncState;
  chapterId?: string;
  limit: number;
  /** The last mentor id of the previous page (keyset pagination). */
  after?: string;
  /**
   * Without a chapter: drive the query from the caller's visible mentors (a user's JWT) instead of
   * scanning every status row and letting the per-row policies discard most of them; off for the
   * service role.
   */
  onlyViewable: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(mentorId: string): string {
  return btoa(mentorId).replace(/=+$/, "");
}

/** The mentor id a cursor stands for, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  try {
    const id = atob(cursor);
    return UUID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * One page of the caller's visible mentors, ordered by mentor id; the next page starts after the
 * cursor (keyset), so every page costs what the first does. The page is driven by an ordered list
 * of candidate ids (see `candidates`) and stops after one page, so the per-row policies run for
 * about that page's rows only. Measured on Postgres 15, 100,000 mentors, a coordinator of a
 * 2,000-mentor chapter: 237 ms for the chapter's first page when the walk went through
 * peer_mentors' key, testing each mentor's visibility, 8 ms driven by the chapter's index; 300 ms
 * and 6 ms for the same coordinator's list without a chapter.
 */
export async function listSyncStatus(
  sql: CallerSql,
  f: ListFilter,
  now: Date = new Date(),
): Promise<SyncStatusPage> {
  const rows = await sql<(StatusRow & { full_name: string; chapter_ids: string[] })[]>`
    select o.mentor_id, o.full_name, to_jsonb(o.chapter_ids) as chapter_ids, o.state, o.listing,
      o.last_event_id, o.last_event_type, o.last_attempt_at, o.last_success_at, o.attempts,
      o.next_attempt_at, o.last_error, o.last_error_code, o.updated_at
    from (${candidates(f)}) v(id)
    join public.coordinator_sync_overview o on o.mentor_id = v.id
    where (${f.state ?? null}::text is null or o.state = ${f.state ?? null}::text)
    order by v.id
    limit ${f.limit + 1}`;
  const items: SyncStatusListItem[] = rows.slice(0, f.limit).map((r) => ({
    ...toStatus(r, now),
    mentorName: r.full_name,
    chapterIds: r.chapter_ids,
  }));
  const more = rows.length > f.limit;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1].mentorId) : null };
}

/**
 * The ids a page is read from, after the cursor: a chapter's members (mentor_chapters' policy shows
 * a coordinator the memberships of their own chapters only); else the caller's visible set; else
 * (service role) the status rows by key, or by (state, mentor_id) for a state. The view's policies
 * still apply to every row joined to them. The `x is null or ...` conditions fold away when the
 * statement is planned with its values.
 *
 * After a cursor, a chapter's ids are sorted on their own (`offset 0` keeps them a subquery), as a
 * user's visible set always is, so the join keeps that order and stops at the page's end. Left to
 * the planner, a page late in a chapter joined every remaining member and sorted the result: the
 * cursor leaves few ids by the statistics, the policies' filters are guessed at a third of each
 * join, and a sort of that guess looked cheap (bench scenario 5, Postgres: the 14 pages after the
 * middle of a 2,000-mentor chapter took 10-30 ms against 5-8 before it, their policies checked for
 * up to 800 rows instead of 51). It happens while mentor_chapters is not all-visible (after bulk
 * changes, until a vacuum): then an index-only scan costs heap reads, and a bitmap scan and a sort
 * win. A first page keeps the plain form: the planner sizes the whole chapter right and walks its
 * index in order, where sorting the chapter's ids first would check the memberships' policy for
 * all of them (about 1 ms on Postgres, 3 on PGlite, for 2,000). The service role's candidates are
 * the whole status table; its index order is the cheap one and there are no policies to misjudge.
 */
function candidates(f: ListFilter): Part {
  const after = f.after ?? null;
  if (f.chapterId !== undefined) {
    const members = part`select mc.mentor_id from public.mentor_chapters mc
      where mc.chapter_id = ${f.chapterId}::uuid
        and (${after}::uuid is null or mc.mentor_id > ${after}::uuid)`;
    return after === null ? members : part`${members} order by mc.mentor_id offset 0`;
  }
  if (f.onlyViewable) {
    return part`select id from private.viewable_mentor_ids() id
      where (${after}::uuid is null or id > ${after}::uuid) order by id offset 0`;
  }
  const state = f.state ?? null;
  return part`select s.mentor_id from public.mentor_sync_status s
    where (${after}::uuid is null or s.mentor_id > ${after}::uuid)
      and (${state}::text is null or s.state = ${state}::text)`;
}
