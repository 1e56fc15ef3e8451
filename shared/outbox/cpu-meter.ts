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
  /** What a round costs, where that is known beforehand (an estimating meter's rate). */
  readonly msPerRound?: number;
}

/**
 * CPU ms charged per round where nothing can be read: over twice the process CPU per delivery that
 * bench scenario 7 measured for a deployed sync-retry (0.8-0.9 ms, every thread, loopback without
 * TLS), so the estimate stays above what the Edge Runtime's per-isolate accounting sees.
 */
export const ESTIMATED_CPU_MS_PER_ROUND = 2;

/** A meter over a clock that reads CPU milliseconds (tests pass a fake one). */
export function readingCpuMeter(readMs: () => number): CpuMeter {
  return { source: "process", usedMs: readMs, roundsFinished: () => {} };
}

export function estimatingCpuMeter(msPerRound = ESTIMATED_CPU_MS_PER_ROUND): CpuMeter {
  let rounds = 0;
  return {
    source: "estimate",
    msPerRound,
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
  /**
   * How many events the next batch may claim (at most `batchSize`) so it ends within the budget;
   * 0: stop claiming.
   */
  nextBatchLimit(): number;
  /** Records the CPU one batch of `claimed` events cost (from `startedAtMs`, a meter reading). */
  batchDone(claimed: number, startedAtMs: number): void;
}

// The last share of the budget is never claimed into: a batch also has a cost that does not scale
// with its size (the claim, the pause check, the result write, its log line), which sank a tiny last
// batch past the budget (1,505 ms of 1,500 in scenario 7).
const CLAIM_FLOOR_SHARE = 0.05;

// Headroom over the dearest per-event cost seen: batches vary (a garbage collection, a slower
// confirmation burst). In bench scenario 7 under the inspector, keeping free just the dearest batch
// let one invocation in six end at 1,712 ms against a 1,500 ms budget.
const PER_EVENT_HEADROOM = 1.5;

/**
 * The CPU side of one dispatch call. Each batch's per-event cost is measured (CPU of the batch over
 * the events it claimed); the next batch claims only as many events as fit in what is left of the
 * budget (less its last 5 %) at the dearest per-event cost seen, with headroom, so a batch started
 * under the budget finishes under it. The first batch claims a full SYNC_BATCH_SIZE unless the
 * meter knows a round's cost beforehand: keep a batch well under the budget (the bench reports CPU
 * ms per delivery).
 */
export function cpuAllowance(meter: CpuMeter, budgetMs: number, batchSize: number): CpuAllowance {
  const start = meter.usedMs();
  const spentMs = () => meter.usedMs() - start;
  let perEventMs = meter.msPerRound ?? 0;
  return {
    spentMs,
    nextBatchLimit: () => {
      const left = budgetMs * (1 - CLAIM_FLOOR_SHARE) - spentMs();
      if (left <= 0) return 0;
      if (perEventMs === 0) return batchSize;
      return Math.min(batchSize, Math.floor(left / (perEventMs * PER_EVENT_HEADROOM)));
    },
    batchDone: (claimed, startedAtMs) => {
      meter.roundsFinished(claimed);
      if (claimed > 0) perEventMs = Math.max(perEventMs, (meter.usedMs() - startedAtMs) / claimed);
    },
  };
}
