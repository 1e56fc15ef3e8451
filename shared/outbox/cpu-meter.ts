// The CPU a dispatch call has used, for keeping an invocation inside Supabase's CPU limit (2 s per
// request). Under Deno, node:process's cpuUsage() reads getrusage(): the whole process's user+system
// time, every thread included, which over-counts what the Edge Runtime charges (the isolate's own
// thread) and so errs on the safe side. Supabase's Edge Runtime has no CPU reading at all: its
// node:process cpuUsage() is a stub that answers zeros (ext/node/polyfills/process.ts), Deno.* has
// no CPU API, and EdgeRuntime.getRuntimeMetrics() exists only in the main worker. There the meter
// estimates instead: a fixed cost per finished round, measured by bench scenario 7.
import process from "node:process";

export interface CpuMeter {
  /** "process": read from the operating system; "estimate": counted from finished rounds. */
  readonly source: "process" | "estimate";
  /** CPU milliseconds used so far: a running total, only differences mean anything. */
  usedMs(): number;
  /** Rounds the dispatcher finished (what an estimating meter counts; a reading meter ignores it). */
  roundsFinished(n: number): void;
}

/**
 * CPU ms charged per round where nothing can be read: about twice the process CPU per delivery that
 * bench scenario 7 measures for a deployed sync-retry (all threads, TLS-less loopback), so the
 * estimate stays above what the Edge Runtime's per-isolate accounting sees.
 */
export const ESTIMATED_CPU_MS_PER_ROUND = 1;

/** A meter over a clock that reads CPU milliseconds (tests pass a fake one). */
export function readingCpuMeter(readMs: () => number): CpuMeter {
  return { source: "process", usedMs: readMs, roundsFinished: () => {} };
}

export function estimatingCpuMeter(msPerRound = ESTIMATED_CPU_MS_PER_ROUND): CpuMeter {
  let rounds = 0;
  return {
    source: "estimate",
    usedMs: () => rounds * msPerRound,
    roundsFinished: (n) => void (rounds += n),
  };
}

/** The process's CPU time in ms, or null where cpuUsage() is a stub (it reads zero once booted). */
export function processCpuClock(): (() => number) | null {
  const read = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  try {
    return read() > 0 ? read : null;
  } catch {
    return null;
  }
}

/** This process's meter: a reading one where the runtime offers CPU time, else an estimate. */
export function processCpuMeter(): CpuMeter {
  const clock = processCpuClock();
  return clock ? readingCpuMeter(clock) : estimatingCpuMeter();
}

export interface CpuAllowance {
  /** CPU ms spent since the allowance began. */
  spentMs(): number;
  /** Whether one more batch fits: spent + the expected cost of a full batch stays within budget. */
  nextBatchFits(): boolean;
  /** Records the CPU one batch of `claimed` events cost (from `startedAtMs`, a meter reading). */
  batchDone(claimed: number, startedAtMs: number): void;
}

/**
 * The CPU side of one dispatch call. The margin kept free is what a full batch is expected to cost,
 * measured in this call: the dearest batch so far, or the per-event cost of the largest batch
 * scaled to `batchSize` if that is more. So a batch started under the budget finishes under it;
 * the first batch always runs (SYNC_BATCH_SIZE must cost well under the budget: the bench reports
 * CPU ms per delivery).
 */
export function cpuAllowance(meter: CpuMeter, budgetMs: number, batchSize: number): CpuAllowance {
  const start = meter.usedMs();
  const spentMs = () => meter.usedMs() - start;
  let dearest = 0;
  let largest = { claimed: 0, cost: 0 };
  return {
    spentMs,
    nextBatchFits: () => {
      const fullBatch = largest.claimed > 0 ? (largest.cost / largest.claimed) * batchSize : 0;
      return spentMs() + Math.max(dearest, fullBatch) <= budgetMs;
    },
    batchDone: (claimed, startedAtMs) => {
      meter.roundsFinished(claimed);
      const cost = meter.usedMs() - startedAtMs;
      dearest = Math.max(dearest, cost);
      if (claimed > largest.claimed || (claimed === largest.claimed && cost > largest.cost)) {
        largest = { claimed, cost };
      }
    },
  };
}
