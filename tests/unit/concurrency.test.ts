import { describe, expect, it } from "vitest";
import { mapWithConcurrency } from "../../shared/outbox/concurrency.ts";

describe("mapWithConcurrency", () => {
  it("keeps input order and never runs more than the limit at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it("handles an empty list and a limit above the item count", async () => {
    expect(await mapWithConcurrency([], 4, (n: number) => Promise.resolve(n))).toEqual([]);
    expect(await mapWithConcurrency([1], 8, (n) => Promise.resolve(n + 1))).toEqual([2]);
  });
});
