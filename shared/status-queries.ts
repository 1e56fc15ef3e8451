// Sync status reads: one mentor (getSyncStatus) and the dashboard's list mode. Run inside
// `asCaller` (caller-context.ts) they see exactly what row-level security lets the caller see.
import type { SyncStatus, SyncStatusListItem, SyncStatusPage } from "./contract/api.ts";
import type { SyncState } from "./contract/vocabulary.ts";
import { coordinatorView } from "./contract/coordinator-errors.ts";
import type { Sql } from "./db.ts";

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
  sql: Sql,
  mentorId: string,
  now: Date = new Date(),
): Promise<SyncStatus | null> {
  // The technical error code lives on the event (written with its last_error): one index probe.
  const [row] = await sql<StatusRow[]>`
    select mentor_id, state, listing, last_event_id, last_event_type, last_attempt_at,
      last_success_at, attempts, next_attempt_at, last_error, updated_at,
      (select e.last_error_code from public.sync_events e where e.event_id = s.last_event_id)
        as last_error_code
    from public.mentor_sync_status s where mentor_id = ${mentorId}`;
  return row ? toStatus(row, now) : null;
}

export interface ListFilter {
  state?: SyncState;
  chapterId?: string;
  limit: number;
  /** The last mentor id of the previous page (keyset pagination). */
  after?: string;
  /**
   * Drive the query from the caller's visible mentors (a user's JWT) instead of scanning every
   * status row and letting the per-row policies discard most of them; off for the service role.
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

/** One page of the caller's visible mentors, ordered by mentor id. */
export async function listSyncStatus(
  sql: Sql,
  f: ListFilter,
  now: Date = new Date(),
): Promise<SyncStatusPage> {
  const rows = await sql<(StatusRow & { full_name: string; chapter_ids: string[] })[]>`
    select mentor_id, full_name, chapter_ids, state, listing, last_event_id, last_event_type,
      last_attempt_at, last_success_at, attempts, next_attempt_at, last_error, updated_at,
      (select e.last_error_code from public.sync_events e where e.event_id = o.last_event_id)
        as last_error_code
    from public.coordinator_sync_overview o
    where (${f.state ?? null}::text is null or state = ${f.state ?? null}::text)
      and (${f.chapterId ?? null}::uuid is null or ${f.chapterId ?? null}::uuid = any(chapter_ids))
      and (${f.after ?? null}::uuid is null or mentor_id > ${f.after ?? null}::uuid)
      and (not ${f.onlyViewable} or mentor_id in (select private.viewable_mentor_ids()))
    order by mentor_id
    limit ${f.limit + 1}`;
  const items: SyncStatusListItem[] = rows.slice(0, f.limit).map((r) => ({
    ...toStatus(r, now),
    mentorName: r.full_name,
    chapterIds: r.chapter_ids,
  }));
  const more = rows.length > f.limit;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1].mentorId) : null };
}
