// What this process's JavaScript heap holds, for the sweep's log line. Supabase limits a function's
// memory (256 MB) by its isolate's heap and external allocations (its shutdown events report
// total = heap + external), not by the process's resident set, which also holds the runtime itself.
// node:process answers under Deno and Node alike; where a runtime lacks or stubs the reading, the
// figures are zeros: a log line's extra never fails the sweep it describes.
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

type Reading = Pick<ReturnType<typeof process.memoryUsage>, "heapUsed" | "heapTotal" | "external">;

export function memoryInUse(read: () => Reading = () => process.memoryUsage()): MemoryInUse {
  let m: Reading;
  try {
    m = read();
  } catch {
    m = { heapUsed: 0, heapTotal: 0, external: 0 };
  }
  return {
    heapUsedMiB: inMiB(m.heapUsed),
    heapTotalMiB: inMiB(m.heapTotal),
    externalMiB: inMiB(m.external),
  };
}
