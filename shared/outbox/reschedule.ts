// What happens to an event after a dispatch round that did not deliver it: reschedule with a longer
// backoff (minutes to hours), or dead-letter it. Pure, so the policy is tested without a database.
import type { DeliveryFailure } from "../dynamics/errors.ts";

export interface ReschedulePolicy {
  /** Rounds after which an event is dead-lettered. */
  maxRounds: number;
  rescheduleBaseSeconds: number;
  rescheduleCapSeconds: number;
  /** An event older than this is dead-lettered instead of rescheduled. */
  maxAgeHours: number;
}

export type NextStep =
  | { state: "retrying"; nextAttemptAt: Date }
  | { state: "failed"; reason: "permanent" | "max_attempts" | "max_age" };

export interface RoundResult {
  error: DeliveryFailure;
  /** Rounds so far, this one included. */
  rounds: number;
  createdAt: Date;
  now: Date;
  /** Jitter source in [0, 1): spreads a mass of rescheduled events so they do not return at once. */
  random: () => number;
}

export function nextStep(policy: ReschedulePolicy, r: RoundResult): NextStep {
  if (r.error.kind === "permanent") return { state: "failed", reason: "permanent" };
  if (r.rounds >= policy.maxRounds) return { state: "failed", reason: "max_attempts" };
  // Dynamics said when to come back (429/503 with Retry-After): a longer backoff would only add to
  // the makespan of a throttled mass update, a shorter one would be refused again.
  const delayMs = r.error.retryAfterMs ??
    rescheduleDelaySeconds(policy, r.rounds, r.random) * 1000;
  const due = r.now.getTime() + delayMs;
  if (due - r.createdAt.getTime() > policy.maxAgeHours * 3_600_000) {
    return { state: "failed", reason: "max_age" };
  }
  return { state: "retrying", nextAttemptAt: new Date(due) };
}

/** base·2^(rounds-1), capped, with the upper half jittered: between half and all of that delay. */
export function rescheduleDelaySeconds(
  policy: ReschedulePolicy,
  rounds: number,
  random: () => number,
): number {
  const exp = Math.min(
    policy.rescheduleCapSeconds,
    policy.rescheduleBaseSeconds * 2 ** Math.max(0, rounds - 1),
  );
  return exp / 2 + (exp / 2) * random();
}
