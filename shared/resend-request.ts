// A coordinator's (or the service role's) request to resend one mentor's current state, sent as the
// caller in one message (`callerSql`, no `sql.begin`). The rules (who may ask, once a minute per
// mentor, the audit row) live in public.request_sync_resend, which sees the caller's JWT claims.
import type { CallerSql } from "./http/caller-context.ts";

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
