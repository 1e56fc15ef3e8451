// Named queries of sync-resend, one statement each (no `sql.begin`: see http/caller-context.ts).
// The rules (who may ask, once a minute per mentor, the audit row) live in
// public.request_sync_resend; run through `callerSql` it sees the caller's JWT claims.
import type { Sql } from "../db.ts";
import type { CallerSql } from "../http/caller-context.ts";
import { requeueFailed } from "./sync-queries.ts";

export type ResendDecision =
  | { kind: "accepted"; eventId: string }
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "not_found" };

export async function requestResend(sql: CallerSql, mentorId: string): Promise<ResendDecision> {
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
 * one statement. Returns how many were re-queued.
 */
export async function recoverDeadLetters(sql: Sql, since: Date): Promise<number> {
  const [{ recovered }] = await sql<{ recovered: number }[]>`
    with requeued as (${requeueFailed(sql, { failedSince: since })}),
    audited as (
      insert into public.sync_resend_requests
        (mentor_id, requested_by, requester_role, kind, outcome, event_id)
      select "mentorId", null, 'service_role', 'recover', 'accepted', "eventId" from requeued
    )
    select count(*)::int as recovered from requeued`;
  return recovered;
}
