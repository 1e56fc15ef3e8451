import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay } from "../../shared/dynamics/backoff.ts";
import { defaults } from "../support/config-defaults.ts";

const OPTIONS = { baseDelayMs: 250, maxDelayMs: 10_000 };

describe("backoffCeiling", () => {
  it("doubles from the base until it reaches the cap", () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((retry) => backoffCeiling(retry, OPTIONS));
    expect(ceilings).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it("stays at the cap for absurd retry counts instead of overflowing", () => {
    expect(backoffCeiling(5000, OPTIONS)).toBe(10_000);
  });

  it("is configured by default with base 250 ms and cap 10 s", () => {
    const { baseDelayMs, maxDelayMs } = defaults.dynamics.retry;
    expect({ baseDelayMs, maxDelayMs }).toEqual({ baseDelayMs: 250, maxDelayMs: 10_000 });
    expect(backoffCeiling(0, defaults.dynamics.retry)).toBe(250);
    expect(backoffCeiling(10, defaults.dynamics.retry)).toBe(10_000);
  });
});

describe("backoffDelay (full jitter)", () => {
  it("is 0 when random() returns 0", () => {
    expect([0, 3, 9].map((retry) => backoffDelay(retry, OPTIONS, () => 0))).toEqual([0, 0, 0]);
  });

  it("is just under the ceiling when random() returns 0.999…", () => {
    const almostOne = () => 0.9999999;
    expect(backoffDelay(0, OPTIONS, almostOne)).toBe(249);
    expect(backoffDelay(3, OPTIONS, almostOne)).toBe(1999);
    expect(backoffDelay(12, OPTIONS, almostOne)).toBe(9999);
  });

  it("scales linearly with random() within the window", () => {
    expect(backoffDelay(2, OPTIONS, () => 0.5)).toBe(500);
  });

  it("always lies in [0, min(cap, base·2ⁿ)]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        (retry, r, base, cap) => {
          const options = { baseDelayMs: base, maxDelayMs: cap };
          const delay = backoffDelay(retry, options, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(cap, base * 2 ** retry));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it("clamps a misbehaving random() into range", () => {
    expect(backoffDelay(1, OPTIONS, () => -3)).toBe(0);
    expect(backoffDelay(1, OPTIONS, () => 7)).toBe(500);
  });
});
