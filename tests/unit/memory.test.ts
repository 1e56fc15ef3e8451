// The sweep's memory reading: this process's own heap in MiB, and zeros, not a failed sweep, where
// the runtime cannot say.
import { describe, expect, it } from "vitest";
import { memoryInUse } from "../../shared/memory.ts";

describe("memoryInUse", () => {
  it("reads this process's heap and external memory in MiB", () => {
    const held = new Uint8Array(8 * 1024 * 1024).fill(1);
    const m = memoryInUse();
    expect(m.heapUsedMiB).toBeGreaterThan(0);
    expect(m.heapTotalMiB).toBeGreaterThanOrEqual(m.heapUsedMiB);
    expect(m.externalMiB).toBeGreaterThanOrEqual(held.length / (1024 * 1024));
  });

  it("rounds to a tenth of a MiB", () => {
    const m = memoryInUse(() => ({ heapUsed: 1_572_864, heapTotal: 3_250_000, external: 0 }));
    expect(m).toEqual({ heapUsedMiB: 1.5, heapTotalMiB: 3.1, externalMiB: 0 });
  });

  it("answers zeros where the runtime has no reading", () => {
    const m = memoryInUse(() => {
      throw new TypeError("process.memoryUsage is not a function");
    });
    expect(m).toEqual({ heapUsedMiB: 0, heapTotalMiB: 0, externalMiB: 0 });
  });
});
