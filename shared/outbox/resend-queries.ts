// Named queries of sync-resend. The rules (who may ask, once a minute per mentor, the audit row)
// live in public.request_sync_resend; run inside `asCaller` it sees the caller's JWT claims.
import type { Sql } from "../db.ts";
import { requeueFailedEvents } from "./sync-queries.ts";

export type ResendDecision =
  | { kind: "accepted"; eventId: string }
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "not_found" };

export async function requestResend(sql: Sql, mentorId: string): Promise<ResendDecision> {
  const [row] = await sql<
    {
      outcome: ResendDecision["kind"];
      event_id: string | null;
      retry_after_seconds: number | null;
    }[]
  >`select outcome, event_id, retry_after_seconds from public.request_sync_resend(${mentorId})`;
  switch (row.outcome) {
    case "accepted":
      return { kind: "accepted", eventId: row.event_id! };
    case "rate_limited":
      return { kind: "rate_limited", retryAfterSeconds: row.retry_after_seconds! };
    case "not_found":
      return { kind: "not_found" };
  }
}

/**
 * Re-queues the dead letters failed since `since` and audits each as a service-role recovery, in
 * one transaction. Returns how many were re-queued.
 */
export function recoverDeadLetters(sql: Sql, since: Date): Promise<number> {
  return sql.begin(async (tx) => {
    const events = await requeueFailedEvents(tx as unknown as Sql, { failedSince: since });
    if (events.length > 0) {
      await tx`
        insert into public.sync_resend_requests
          (mentor_id, requested_by, requester_role, kind, outcome, event_id)
        select r."mentorId", null, 'service_role', 'recover', 'accepted', r."eventId"
        from jsonb_to_recordset(${tx.json(events)}::jsonb) as r("mentorId" uuid, "eventId" uuid)`;
    }
    return events.length;
  }) as Promise<number>;
}
