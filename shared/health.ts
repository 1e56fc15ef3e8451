// sync-health: one statement (public.sync_health) for everything the database knows, plus the
// circuit breaker of the answering process; as JSON (contract/api.ts SyncHealth), or as Prometheus
// text exposition.
import type { CircuitState } from "./dynamics/circuit-breaker.ts";
import type { Sql } from "./db.ts";
import type { SyncHealth } from "./contract/api.ts";

export async function fetchHealth(
  sql: Sql,
  defaultEnabled: boolean,
  breaker: CircuitState | null,
): Promise<SyncHealth> {
  const [row] = await sql<{ health: Omit<SyncHealth, "breaker"> }[]>`
    select public.sync_health(${defaultEnabled}) as health`;
  return { ...row.health, breaker };
}

const BREAKER_STATES: CircuitState[] = ["closed", "half-open", "open"];
const ALERT_CAUSES = ["dead_letter", "outage", "drift", "gone"];

const seconds = (iso: string | null | undefined) => iso ? Date.parse(iso) / 1000 : null;

/** Prometheus text exposition (version 0.0.4); absent values are left out, as the format expects. */
export function toPrometheus(h: SyncHealth): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    help: string,
    samples: Array<[Record<string, string>, number | null | undefined]>,
  ) => {
    const present = samples.filter(([, v]) => v !== null && v !== undefined);
    if (present.length === 0) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of present) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
      lines.push(`${name}${l ? `{${l}}` : ""} ${value}`);
    }
  };
  metric(
    "hlf_sync_backlog_events",
    "Undelivered sync events by state.",
    Object.entries(h.backlog).map(([state, n]) => [{ state }, n]),
  );
  metric("hlf_sync_oldest_due_age_seconds", "How long the oldest due event has waited.", [[
    {},
    h.oldestDueAgeSeconds,
  ]]);
  metric("hlf_sync_attempts_last_hour", "Delivery attempts in the last hour by result.", [
    [{ result: "delivered" }, h.lastHour.deliveries],
    [{ result: "failed" }, h.lastHour.failures],
  ]);
  metric("hlf_sync_attempt_latency_ms", "Attempt latency over the last hour.", [
    [{ quantile: "0.5" }, h.lastHour.latencyMsP50],
    [{ quantile: "0.95" }, h.lastHour.latencyMsP95],
  ]);
  metric("hlf_sync_last_success_timestamp_seconds", "Last successful delivery.", [[
    {},
    seconds(h.lastSuccessAt),
  ]]);
  metric("hlf_sync_failing_since_timestamp_seconds", "Start of the current Dynamics outage.", [[
    {},
    seconds(h.failingSince),
  ]]);
  metric(
    "hlf_sync_breaker_state",
    "Circuit breaker of the answering process (1 = current state).",
    h.breaker === null ? [] : BREAKER_STATES.map((s) => [{ state: s }, s === h.breaker ? 1 : 0]),
  );
  metric("hlf_sync_paused", "1 while delivery is paused.", [[{}, h.pause.paused ? 1 : 0]]);
  const run = h.lastReconciliation;
  metric("hlf_sync_reconcile_last_drift", "Drift found by the last reconciliation run.", [[
    {},
    run?.drift,
  ]]);
  metric("hlf_sync_reconcile_last_checked", "Listings checked by the last reconciliation run.", [[
    {},
    run?.checked,
  ]]);
  metric("hlf_sync_reconcile_last_finished_timestamp_seconds", "End of the last run.", [[
    {},
    seconds(run?.finishedAt),
  ]]);
  metric(
    "hlf_sync_open_alerts",
    "Open alerts by cause.",
    ALERT_CAUSES.map((cause) => [{ cause }, h.openAlerts[cause] ?? 0]),
  );
  return `${lines.join("\n")}\n`;
}
