import { describe, expect, it } from "vitest";
import { deliveryFailure } from "../../shared/dynamics/errors.ts";
import {
  finishFailedRound,
  nextStep,
  rescheduleDelaySeconds,
  type ReschedulePolicy,
} from "../../shared/outbox/reschedule.ts";

const policy: ReschedulePolicy = {
  maxRounds: 5,
  rescheduleBaseSeconds: 60,
  rescheduleCapSeconds: 3600,
  maxAgeHours: 24,
};
const now = new Date("2026-11-22T10:00:00.000Z");
const retryable = deliveryFailure("retryable", "http_503", "service unavailable", { status: 503 });

describe("rescheduleDelaySeconds", () => {
  it("doubles per round between half and all of the exponential delay, up to the cap", () => {
    expect(rescheduleDelaySeconds(policy, 1, () => 0)).toBe(30);
    expect(rescheduleDelaySeconds(policy, 1, () => 0.999999)).toBeCloseTo(60, 3);
    expect(rescheduleDelaySeconds(policy, 3, () => 0)).toBe(120);
    expect(rescheduleDelaySeconds(policy, 3, () => 0.5)).toBe(180);
    expect(rescheduleDelaySeconds(policy, 30, () => 0.999999)).toBeCloseTo(3600, 2);
    expect(rescheduleDelaySeconds(policy, 30, () => 0)).toBe(1800);
  });
});

describe("nextStep", () => {
  it("reschedules a retryable failure into the future", () => {
    const step = nextStep(policy, {
      error: retryable,
      rounds: 2,
      createdAt: now,
      now,
      random: () => 0,
    });
    expect(step).toEqual({ state: "retrying", nextAttemptAt: new Date(now.getTime() + 60_000) });
  });

  it("comes back when Retry-After says, whether longer or shorter than the backoff", () => {
    for (const retryAfterMs of [600_000, 2_000]) {
      const error = deliveryFailure("retryable", "http_429", "too many requests", { retryAfterMs });
      const step = nextStep(policy, { error, rounds: 3, createdAt: now, now, random: () => 0 });
      expect(step).toEqual({
        state: "retrying",
        nextAttemptAt: new Date(now.getTime() + retryAfterMs),
      });
    }
  });

  it("reschedules auth failures too: a rotated credential must not lose events", () => {
    const error = deliveryFailure("auth", "token_endpoint", "token endpoint answered 503");
    expect(nextStep(policy, { error, rounds: 1, createdAt: now, now, random: () => 0 }).state)
      .toBe("retrying");
  });

  it("dead-letters permanent failures at once", () => {
    const error = deliveryFailure("permanent", "http_422", "unprocessable", { status: 422 });
    expect(nextStep(policy, { error, rounds: 1, createdAt: now, now, random: () => 0 }))
      .toEqual({ state: "failed", reason: "permanent" });
  });

  it("dead-letters after the configured number of rounds", () => {
    expect(
      nextStep(policy, { error: retryable, rounds: 4, createdAt: now, now, random: () => 0 }).state,
    )
      .toBe("retrying");
    expect(nextStep(policy, { error: retryable, rounds: 5, createdAt: now, now, random: () => 0 }))
      .toEqual({ state: "failed", reason: "max_attempts" });
  });

  it("dead-letters when the next attempt would fall past the maximum age", () => {
    const createdAt = new Date(now.getTime() - 24 * 3_600_000 + 10_000);
    expect(nextStep(policy, { error: retryable, rounds: 1, createdAt, now, random: () => 0 }))
      .toEqual({ state: "failed", reason: "max_age" });
  });
});

describe("finishFailedRound", () => {
  const round = { rounds: 5, createdAt: now, now, random: () => 0 };

  it("gives a refused round back, due when the refusal ends, even on the last round", () => {
    const open = deliveryFailure("retryable", "circuit_open", "breaker open", {
      retryAfterMs: 7_000,
    });
    expect(finishFailedRound(policy, { ...round, error: open, attemptsSent: 0 })).toEqual({
      finish: {
        state: "retrying",
        nextAttemptAt: new Date(now.getTime() + 7_000),
        error: "circuit_open: breaker open",
        code: "circuit_open",
        status: null,
        refused: true,
      },
      deadLettered: null,
    });
  });

  it("counts a round whose requests went out, whatever its last code", () => {
    const open = deliveryFailure("retryable", "circuit_open", "breaker opened mid-round");
    const out = finishFailedRound(policy, { ...round, rounds: 1, error: open, attemptsSent: 2 });
    expect(out.finish).toMatchObject({ state: "retrying", refused: false });
    expect(out.deadLettered).toBeNull();
  });

  it("returns the dead letter and its reason once the policy gives up", () => {
    expect(finishFailedRound(policy, { ...round, error: retryable, attemptsSent: 3 })).toEqual({
      finish: {
        state: "failed",
        error: "http_503: service unavailable",
        code: "http_503",
        status: 503,
      },
      deadLettered: "max_attempts",
    });
  });
});
