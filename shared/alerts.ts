// What the sweep does for alerts after dispatching: raise the outage alert once Dynamics has
// failed for longer than the threshold, then post new alerts where an alert webhook is configured.
import { type NotifyCounts, postPendingAlerts } from "./alert-notifier.ts";
import type { Config } from "./config.ts";
import type { Sql } from "./db.ts";
import type { Logger } from "./logger.ts";

export interface AlertCheckDeps {
  sql: Sql;
  log: Logger;
  alerts: Config["alerts"];
  fetch?: typeof fetch;
}

export interface AlertCheckResult {
  outage: boolean;
  /** null when no ALERT_WEBHOOK_URL is configured. */
  posted: NotifyCounts | null;
}

export async function checkAlerts(d: AlertCheckDeps): Promise<AlertCheckResult> {
  const [{ outage }] = await d.sql<{ outage: boolean }[]>`
    select public.evaluate_outage_alert(${d.alerts.outageSeconds}) as outage`;
  const posted = d.alerts.webhookUrl
    ? await postPendingAlerts({
      sql: d.sql,
      log: d.log,
      webhookUrl: d.alerts.webhookUrl,
      fetch: d.fetch,
    })
    : null;
  return { outage, posted };
}
