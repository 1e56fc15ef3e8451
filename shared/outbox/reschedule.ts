// What happens to an event after a dispatch round that did not deliver it: due again at once after
// a refusal, rescheduled with a longer backoff (minutes to hours), or dead-lettered. Pure, so the
// policy is tested without a database; `finishFailedRound` returns the record the dispatcher writes.
import type { DeliveryFailure } from "../dynamics/errors.ts";
import type { Finish } from "./sync-queries.ts";

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
  | { state: "failed"; reason: DeadLetterReason };

export type DeadLetterReason = "permanent" | "max_attempts" | "max_age";

export interface FailedRound {
  error: DeliveryFailure;
  /** Rounds so far, this one included. */
  rounds: number;
  createdAt: Date;
  now: Date;
  /** Jitter source in [0, 1): spreads a mass of rescheduled events so they do not return at once. */
  random: () => number;
}

export function nextStep(policy: ReschedulePolicy, r: FailedRound): NextStep {
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

// Codes with which the client gives up on a round before sending anything.
const REFUSALS = new Set(["circuit_open", "budget_exhausted"]);

/**
 * The record of a round that did not deliver. Refused before any request went out (circuit open,
 * or no time left in the call's budget): Dynamics saw nothing, so the round does not count against
 * the dead-letter budget and the event is due again as soon as the refusal ends. `deadLettered`
 * names why when the event is given up.
 */
export function finishFailedRound(
  policy: ReschedulePolicy,
  r: FailedRound & { attemptsSent: number },
): { finish: Exclude<Finish, { state: "delivered" }>; deadLettered: DeadLetterReason | null } {
  const { error: failure } = r;
  const error = `${failure.code}: ${failure.message}`;
  const status = failure.status ?? null;
  const record = { error, code: failure.code, status };
  if (r.attemptsSent === 0 && REFUSALS.has(failure.code)) {
    const nextAttemptAt = new Date(r.now.getTime() + (failure.retryAfterMs ?? 0));
    return {
      finish: { state: "retrying", nextAttemptAt, ...record, refused: true },
      deadLettered: null,
    };
  }
  const step = nextStep(policy, r);
  return step.state === "retrying"
    ? {
      finish: { state: "retrying", nextAttemptAt: step.nextAttemptAt, ...record, refused: false },
      deadLettered: null,
    }
    : { finish: { state: "failed", ...record }, deadLettered: step.reason };
}
