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

describe("mapWithConcurrency after a failure", () => {
  it("rejects with the first failure at once and starts no further item", async () => {
    const started: number[] = [];
    let release!: () => void;
    const slowGate = new Promise<void>((r) => (release = r));
    const run = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) {
        await slowGate; // still in flight when item 1 fails
        return n;
      }
      await Promise.resolve();
      throw new Error(`item ${n} failed`);
    });
    await expect(run).rejects.toThrow("item 1 failed");
    expect(started).toEqual([0, 1]);
    // The call in flight finishes on its own; nothing starts after it.
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1]);
  });
});
