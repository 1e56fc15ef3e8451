import { describe, expect, it } from "vitest";
import { createGroupWriter, GroupWriteTimeout } from "../../shared/group-writer.ts";

/** A flush whose calls finish only when the test says so; records each group it was given. */
function gatedFlush(fail: (item: number) => boolean = () => false) {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  const flush = async (items: number[]) => {
    groups.push(items);
    await new Promise<void>((r) => gates.push(r));
    if (items.some(fail)) throw new Error(`bad item in ${items.join(",")}`);
    return items.map((n) => n * 10);
  };
  const openNext = async () => {
    gates.shift()!();
    // Let the settled group hand its results back and the next group start.
    await new Promise((r) => setTimeout(r, 0));
  };
  return { groups, flush, openNext };
}

describe("createGroupWriter", () => {
  it("writes an item alone at once, with no waiting", async () => {
    const f = gatedFlush();
    const writer = createGroupWriter(f.flush, { maxInFlight: 1, maxItems: 10, timeoutMs: 60_000 });
    const one = writer.write(1);
    expect(f.groups).toEqual([[1]]);
    await f.openNext();
    expect(await one).toBe(10);
  });

  it("groups what arrives while the writes in flight are busy, in order, each its own result", async () => {
    const f = gatedFlush();
    const writer = createGroupWriter(f.flush, { maxInFlight: 2, maxItems: 10, timeoutMs: 60_000 });
    const results = [1, 2, 3, 4, 5].map((n) => writer.write(n));
    // Two groups in flight (1 and 2); 3, 4 and 5 wait.
    expect(f.groups).toEqual([[1], [2]]);
    await f.openNext();
    expect(f.groups).toEqual([[1], [2], [3, 4, 5]]);
    await f.openNext();
    await f.openNext();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
  });

  it("sends the next group before the written group's callers resume", async () => {
    const f = gatedFlush();
    const writer = createGroupWriter(f.flush, { maxInFlight: 1, maxItems: 10, timeoutMs: 60_000 });
    const seen: string[] = [];
    const first = writer.write(1).then(() =>
      seen.push(`caller 1 resumed; groups sent ${f.groups.length}`)
    );
    void writer.write(2);
    await f.openNext();
    await first;
    expect(seen).toEqual(["caller 1 resumed; groups sent 2"]);
  });

  it("caps a group at maxItems", async () => {
    const f = gatedFlush();
    const writer = createGroupWriter(f.flush, { maxInFlight: 1, maxItems: 2, timeoutMs: 60_000 });
    const results = [1, 2, 3, 4, 5].map((n) => writer.write(n));
    for (let i = 0; i < 3; i++) await f.openNext();
    expect(f.groups).toEqual([[1], [2, 3], [4, 5]]);
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
  });

  it("writes a failed group again item by item: only the bad item fails", async () => {
    const f = gatedFlush((n) => n === 3);
    const writer = createGroupWriter(f.flush, { maxInFlight: 1, maxItems: 10, timeoutMs: 60_000 });
    const results = [1, 2, 3, 4].map((n) => writer.write(n).catch((e: Error) => e.message));
    await f.openNext(); // [1]
    await f.openNext(); // [2, 3, 4] fails
    expect(f.groups.slice(2)).toEqual([[2], [3], [4]]);
    for (let i = 0; i < 3; i++) await f.openNext();
    expect(await Promise.all(results)).toEqual([10, 20, "bad item in 3", 40]);
  });

  it("fails a group that never settles after timeoutMs, as a whole, and writes the next", async () => {
    const groups: number[][] = [];
    const writer = createGroupWriter(
      (items: number[]) => {
        groups.push(items);
        // The first group's query never answers; later ones do.
        return groups.length === 1 ? new Promise<number[]>(() => {}) : Promise.resolve(items);
      },
      { maxInFlight: 1, maxItems: 10, timeoutMs: 20 },
    );
    const stuck = writer.write(1);
    const waitingBehind = [writer.write(2), writer.write(3)];
    await expect(stuck).rejects.toBeInstanceOf(GroupWriteTimeout);
    expect(await Promise.all(waitingBehind)).toEqual([2, 3]);
    // Not retried item by item: the stuck query may still be running.
    expect(groups).toEqual([[1], [2, 3]]);
  });
});
