// The service role's side of sync-resend: recovering dead letters, in one statement (no
// `sql.begin`: see shared/http/caller-context.ts). A coordinator's resend is ../resend-request.ts.
import type { Sql } from "../db.ts";
import { requeueFailedEvents } from "./sync-queries.ts";

/**
 * Re-queues the dead letters failed since `since` and audits each as a service-role recovery, in
 * one statement. Returns how many were re-queued.
 */
export async function recoverDeadLetters(sql: Sql, since: Date): Promise<number> {
  const [{ recovered }] = await sql<{ recovered: number }[]>`
    with requeued as (${requeueFailedEvents(sql, { failedSince: since })}),
    audited as (
      insert into public.sync_resend_requests
        (mentor_id, requested_by, requester_role, kind, outcome, event_id)
      select "mentorId", null, 'service_role', 'recover', 'accepted', "eventId" from requeued
    )
    select count(*)::int as recovered from requeued`;
  return recovered;
}
