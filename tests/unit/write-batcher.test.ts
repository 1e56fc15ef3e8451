import { describe, expect, it } from "vitest";
import { createWriteBatcher } from "../../shared/outbox/write-batcher.ts";

describe("createWriteBatcher", () => {
  it("writes items that arrive together in one flush and hands each its own result", async () => {
    const flushes: number[][] = [];
    const batcher = createWriteBatcher((items: number[]) => {
      flushes.push(items);
      return Promise.resolve(items.map((n) => n * 2));
    }, { maxItems: 10, maxDelayMs: 5 });
    expect(await Promise.all([1, 2, 3].map((n) => batcher.add(n)))).toEqual([2, 4, 6]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it("flushes at once when the batch is full, without waiting for the delay", async () => {
    const flushes: number[][] = [];
    const batcher = createWriteBatcher((items: number[]) => {
      flushes.push(items);
      return Promise.resolve(items);
    }, { maxItems: 2, maxDelayMs: 60_000 });
    expect(await Promise.all([1, 2].map((n) => batcher.add(n)))).toEqual([1, 2]);
    expect(flushes).toEqual([[1, 2]]);
  });

  it("writes the last of its expected items at once: nothing else could join it", async () => {
    const flushes: number[][] = [];
    const batcher = createWriteBatcher((items: number[]) => {
      flushes.push(items);
      return Promise.resolve(items);
    }, { maxItems: 10, maxDelayMs: 60_000, total: 3 });
    const first = batcher.add(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(flushes).toEqual([]);
    expect(await Promise.all([first, batcher.add(2), batcher.add(3)])).toEqual([1, 2, 3]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it("rejects every item of a failed flush and keeps working for the next", async () => {
    let fail = true;
    const batcher = createWriteBatcher(
      (items: string[]) =>
        fail ? Promise.reject(new Error("database gone")) : Promise.resolve(items),
      { maxItems: 5, maxDelayMs: 1 },
    );
    const first = Promise.allSettled([batcher.add("a"), batcher.add("b")]);
    expect((await first).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await batcher.add("c")).toBe("c");
  });
});
