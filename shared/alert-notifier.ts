// Posts new alerts to ALERT_WEBHOOK_URL as Slack-compatible JSON (`{"text": …}`), each once: the row
// is claimed (SKIP LOCKED, so two sweeps never post the same alert), posted with a timeout, and
// marked sent, or retried later with backoff until it gives up. Run by the sweep after dispatch and
// by reconciliation, never inside a delivery, so a slow or broken alert endpoint cannot hold up
// delivery. Written here rather than with a library: it is one bounded POST per claimed row.
import type { Sql } from "./db.ts";
import type { Logger } from "./logger.ts";

export interface AlertNotifierOptions {
  sql: Sql;
  log: Logger;
  webhookUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Posts tried per alert before it is marked gave_up. */
  maxAttempts?: number;
  /** Alerts claimed per call. */
  limit?: number;
}

export interface NotifyCounts {
  sent: number;
  failed: number;
}

interface ClaimedAlert {
  id: string;
  cause: string;
  mentor_id: string | null;
  summary: string;
  count: number;
  notify_attempts: number;
}

const DEFAULTS = { timeoutMs: 5_000, maxAttempts: 5, limit: 20 } as const;
// The row is held this long while a post is in flight; a crashed poster's claim then lapses.
const CLAIM_SECONDS = 60;

/** The Slack-compatible text of an alert. */
export function alertText(alert: Pick<ClaimedAlert, "cause" | "mentor_id" | "summary">): string {
  const subject = alert.mentor_id ? ` (mentor ${alert.mentor_id})` : "";
  return `[HLF Dynamics Sync] ${alert.cause}${subject}: ${alert.summary}`;
}

export async function postPendingAlerts(o: AlertNotifierOptions): Promise<NotifyCounts> {
  const doFetch = o.fetch ?? fetch;
  const { timeoutMs, maxAttempts, limit } = { ...DEFAULTS, ...o };
  const { sql } = o;
  const claimed = await sql<ClaimedAlert[]>`
    with due as (
      select id from public.sync_alerts
       where notify_state = 'pending' and notify_next_at <= now()
       order by notify_next_at
       limit ${limit}
       for update skip locked
    )
    update public.sync_alerts a
       set notify_attempts = a.notify_attempts + 1,
           notify_next_at = now() + make_interval(secs => ${CLAIM_SECONDS})
      from due
     where a.id = due.id
    returning a.id, a.cause, a.mentor_id, a.summary, a.count, a.notify_attempts`;
  const counts: NotifyCounts = { sent: 0, failed: 0 };
  for (const alert of claimed) {
    let ok = false;
    try {
      const response = await doFetch(o.webhookUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: alertText(alert) }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
      await response.body?.cancel();
      ok = response.ok;
    } catch {
      ok = false;
    }
    if (ok) {
      counts.sent += 1;
      await sql`update public.sync_alerts set notify_state = 'sent' where id = ${alert.id}`;
      continue;
    }
    counts.failed += 1;
    const gaveUp = alert.notify_attempts >= maxAttempts;
    // 30 s, 60 s, 120 s, … between posts.
    const delaySeconds = 30 * 2 ** (alert.notify_attempts - 1);
    await sql`
      update public.sync_alerts
         set notify_state = ${gaveUp ? "gave_up" : "pending"},
             notify_next_at = now() + make_interval(secs => ${delaySeconds})
       where id = ${alert.id}`;
    // The URL is a secret of sorts (a Slack webhook carries its token in the path): never logged.
    o.log.warn("alert post failed", { alertId: Number(alert.id), gaveUp });
  }
  return counts;
}
