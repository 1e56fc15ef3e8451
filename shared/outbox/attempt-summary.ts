// One log line per dispatch batch instead of one per attempt (Supabase keeps about 100 log events per
// 10 s per function): how many attempts, how many failed, and their latencies.
export interface AttemptSummary {
  attempts: number;
  failedAttempts: number;
  p50Ms: number | null;
  maxMs: number | null;
}

export interface AttemptTally {
  add(durationMs: number, ok: boolean): void;
  summary(): AttemptSummary;
}

export function createAttemptTally(): AttemptTally {
  const durations: number[] = [];
  let failed = 0;
  return {
    add(durationMs, ok) {
      durations.push(durationMs);
      if (!ok) failed += 1;
    },
    summary() {
      const sorted = [...durations].sort((a, b) => a - b);
      // The lower median: an observed value, never an average of two.
      const p50 = sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)];
      return {
        attempts: sorted.length,
        failedAttempts: failed,
        p50Ms: p50 === null ? null : Math.round(p50),
        maxMs: sorted.length === 0 ? null : Math.round(sorted[sorted.length - 1]),
      };
    },
  };
}
