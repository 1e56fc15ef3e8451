// What this process's JavaScript heap holds, for the sweep's log line. Supabase limits a function's
// memory (256 MB) by its isolate's heap and external allocations (its shutdown events report
// total = heap + external), not by the process's resident set, which also holds the runtime itself.
// node:process answers under Deno and Node alike; where a runtime stubs it, the figures are zeros.
import process from "node:process";

export interface MemoryInUse {
  /** Live objects on the V8 heap. */
  heapUsedMiB: number;
  /** What V8 has reserved for the heap (it grows under allocation and is slow to shrink). */
  heapTotalMiB: number;
  /** Memory outside the heap that JavaScript objects hold (buffers). */
  externalMiB: number;
}

const MiB = 1024 * 1024;
const inMiB = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

export function memoryInUse(): MemoryInUse {
  const m = process.memoryUsage();
  return {
    heapUsedMiB: inMiB(m.heapUsed),
    heapTotalMiB: inMiB(m.heapTotal),
    externalMiB: inMiB(m.external),
  };
}
