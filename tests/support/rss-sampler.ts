// Samples a process's resident memory (VmRSS from /proc/PID/status, Linux) while a load runs, and
// summarises it by quarters: growth after the warm-up (second quarter to end) is what a leak shows.
import { statusKiB } from "../../bench/process-usage.ts";

export async function rssKiB(pid: number): Promise<number> {
  const kib = await statusKiB(pid, "VmRSS");
  if (kib === null) throw new Error(`no VmRSS for process ${pid}`);
  return kib;
}

export interface RssSampler {
  /** Stops sampling; the samples in KiB, oldest first. */
  stop(): Promise<number[]>;
}

export function sampleRss(pid: number, everyMs = 250): RssSampler {
  const samples: number[] = [];
  let pending = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(async () => {
      samples.push(await rssKiB(pid));
    });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      return samples;
    },
  };
}

export interface RssFigures {
  samples: number;
  startMiB: number;
  /** Mean of the second quarter's samples (after warm-up). */
  secondQuarterMiB: number;
  /** Mean of the last quarter's samples. */
  endMiB: number;
  maxMiB: number;
  growthMiB: number;
}

/** KiB to MiB, one decimal. */
export const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function rssFigures(samples: number[]): RssFigures {
  if (samples.length < 8) throw new Error(`too few memory samples (${samples.length})`);
  const q = Math.floor(samples.length / 4);
  const second = mean(samples.slice(q, 2 * q));
  const end = mean(samples.slice(samples.length - q));
  return {
    samples: samples.length,
    startMiB: mib(samples[0]),
    secondQuarterMiB: mib(second),
    endMiB: mib(end),
    maxMiB: mib(Math.max(...samples)),
    growthMiB: mib(end - second),
  };
}
