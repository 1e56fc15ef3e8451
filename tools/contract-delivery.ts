// What an answer from Dynamics means, and when a failed event is tried again, as published in
// contracts/README.md and openapi.json. Derived from the code that decides it (classify.ts, the
// reschedule policy and the configuration defaults), so the documents cannot contradict it.
import { classifyStatus, fetchError, RETRYABLE_STATUSES } from "../shared/dynamics/classify.ts";
import { DEFAULTS } from "../shared/config.ts";
import type { ErrorKind } from "../shared/dynamics/errors.ts";
import type { ReschedulePolicy } from "../shared/outbox/reschedule.ts";

export type Outcome = "delivered" | ErrorKind;

/** One row of the retry table: a group of statuses with the same outcome. */
export interface StatusRule {
  /** As shown: `2xx`, `401`, `other 4xx`... */
  label: string;
  /** Concrete statuses of the group, each classified by classify.ts. */
  examples: number[];
  outcome: Outcome;
  meaning: string;
}

/** The reschedule policy a deployment gets without overriding SYNC_*. */
export function defaultReschedulePolicy(): ReschedulePolicy {
  return {
    maxRounds: DEFAULTS.SYNC_MAX_ROUNDS,
    rescheduleBaseSeconds: DEFAULTS.SYNC_RESCHEDULE_BASE_SECONDS,
    rescheduleCapSeconds: DEFAULTS.SYNC_RESCHEDULE_CAP_SECONDS,
    maxAgeHours: DEFAULTS.SYNC_MAX_AGE_HOURS,
  };
}

const MEANING: Record<Outcome, string> = {
  delivered: "Delivered: the event is complete.",
  retryable: "Retried within the round with backoff (`Retry-After` honoured), then rescheduled " +
    "on the round schedule.",
  auth: "Credential rejected. OAuth2 mode: one fresh token and an immediate repeat. Both modes " +
    "(OAuth2 and API key): the round ends and the event is rescheduled on the round schedule, so " +
    "a rotated credential heals without a requeue; the rounds count toward dead-lettering.",
  permanent: "Permanent: dead-lettered at once, not retried; shown to coordinators " +
    '(`sync-retry` with `requeue: "failed"` sends it again).',
};

const OTHER_4XX = [400, 403, 404, 405, 409, 410, 413, 422];
const OTHER_5XX = [501, 505];
const OTHER_STATUSES = [101, 301, 302, 304];

/** The retry table; every status in it is classified by classify.ts itself. */
export function statusRules(): StatusRule[] {
  const rule = (label: string, examples: number[]): StatusRule => {
    const outcomes = new Set(examples.map(classifyStatus));
    if (outcomes.size !== 1) throw new Error(`${label}: statuses disagree (${[...outcomes]})`);
    const [outcome] = outcomes;
    return { label, examples, outcome, meaning: MEANING[outcome] };
  };
  return [
    rule("2xx", [200, 201, 202, 204]),
    rule("401", [401]),
    ...[...RETRYABLE_STATUSES].sort((a, b) => a - b).map((s) => rule(String(s), [s])),
    rule("other 4xx", OTHER_4XX),
    rule("other 5xx", OTHER_5XX),
    rule("1xx, 3xx (redirects are not followed)", OTHER_STATUSES),
  ];
}

/** Network errors and timeouts: the request may not have arrived. */
export function transportOutcome(): Outcome {
  return fetchError(new TypeError("fetch failed")).kind;
}

export interface ScheduledRound {
  round: number;
  /** Delay before the next round: between half and all of the ceiling (jittered). */
  minSeconds: number;
  maxSeconds: number;
  /** Since the first round, the latest the next round starts (rounds' own time not counted). */
  latestSinceFirstSeconds: number;
}

/** The delay after each failed round but the last (which dead-letters), per reschedule.ts. */
export function roundSchedule(policy: ReschedulePolicy): ScheduledRound[] {
  const rounds: ScheduledRound[] = [];
  let latest = 0;
  for (let round = 1; round < policy.maxRounds; round++) {
    const ceiling = Math.min(
      policy.rescheduleCapSeconds,
      policy.rescheduleBaseSeconds * 2 ** (round - 1),
    );
    latest += ceiling;
    if (latest > policy.maxAgeHours * 3600) break;
    rounds.push({
      round,
      minSeconds: ceiling / 2,
      maxSeconds: ceiling,
      latestSinceFirstSeconds: latest,
    });
  }
  return rounds;
}

export function formatDuration(seconds: number): string {
  const units: Array<[number, string]> = [[86_400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
  const [size, unit] = units.find(([size]) => seconds >= size) ?? [1, "s"];
  const value = Math.round((seconds / size) * 10) / 10;
  return `${value} ${unit}`;
}

/** In-request retries of one round (the Dynamics client). */
export function roundAttempts() {
  return {
    attempts: 1 + DEFAULTS.DYNAMICS_MAX_RETRIES,
    backoffBaseMs: DEFAULTS.DYNAMICS_BACKOFF_BASE_MS,
    backoffCapMs: DEFAULTS.DYNAMICS_BACKOFF_CAP_MS,
    retryAfterCapMs: DEFAULTS.DYNAMICS_RETRY_AFTER_CAP_MS,
  };
}

/** The Markdown block generated into contracts/README.md. */
export function deliveryMarkdown(): string {
  const policy = defaultReschedulePolicy();
  const round = roundAttempts();
  const schedule = roundSchedule(policy);
  const lines = [
    "| answer | outcome | what happens |",
    "| --- | --- | --- |",
    ...statusRules().map((r) =>
      `| ${r.label}${
        r.examples.length > 1 ? ` (${r.examples.join(", ")})` : ""
      } | \`${r.outcome}\` | ${r.meaning} |`
    ),
    `| network error, timeout | \`${transportOutcome()}\` | ${MEANING[transportOutcome()]} |`,
    "",
    `**A round** is up to ${round.attempts} attempts of the same request (same \`eventId\`, same ` +
    `body), with exponential backoff from ${round.backoffBaseMs} ms capped at ` +
    `${round.backoffCapMs} ms (full jitter), or the \`Retry-After\` of a 429/503 (up to ` +
    `${formatDuration(round.retryAfterCapMs / 1000)}).`,
    "",
    "**Pacing.** Every request of one process (sends, their retries, reconciliation reads) first " +
    "takes a place in one shared throttle bucket. Dynamics' " +
    "`x-ms-ratelimit-burst-remaining-xrm-requests` (the requests its window still admits) caps " +
    "how many more may start, less those already sent; a 429's `Retry-After` stops every start " +
    "until it has passed; and from the counts and the first 429 the bucket learns the window, " +
    "so that it waits for a place to free instead of being refused. Without these headers " +
    "nothing is held back.",
    "",
    `**The round schedule** (defaults; \`SYNC_MAX_ROUNDS\`, \`SYNC_RESCHEDULE_BASE_SECONDS\`, ` +
    `\`SYNC_RESCHEDULE_CAP_SECONDS\`, \`SYNC_MAX_AGE_HOURS\` change it). After a failed round the ` +
    "event waits between half and all of the delay below (jittered), or what `Retry-After` " +
    "asked for:",
    "",
    "| after round | next round in | at the latest, since the first round |",
    "| --- | --- | --- |",
    ...schedule.map((r) =>
      `| ${r.round} | ${formatDuration(r.minSeconds)} – ${formatDuration(r.maxSeconds)} | ${
        formatDuration(r.latestSinceFirstSeconds)
      } |`
    ),
    "",
    `The event is dead-lettered (state \`failed\`) after round ${policy.maxRounds}, or as soon ` +
    `as its next round would start more than ${policy.maxAgeHours} h after the event was ` +
    "written, whichever comes first. A round refused before anything was sent (circuit breaker " +
    "open, no time left in the invocation, including to wait for the rate limit) does not count.",
  ];
  return lines.join("\n");
}

/** The outbound webhook's `responses` in openapi.json. */
export function webhookResponses(): Record<string, { description: string }> {
  const responses: Record<string, { description: string }> = {};
  for (const rule of statusRules()) {
    const key = rule.label === "2xx"
      ? "2XX"
      : rule.label === "other 4xx"
      ? "4XX"
      : rule.label === "other 5xx"
      ? "5XX"
      : /^\d{3}$/.test(rule.label)
      ? rule.label
      : null;
    if (key !== null) responses[key] = { description: `\`${rule.outcome}\`: ${rule.meaning}` };
  }
  return responses;
}
