// Virtual time for code that takes `now` and `sleep` as parameters: sleeping advances the clock at
// once and records the requested delay, so backoff and Retry-After are tested without waiting.

export interface FakeClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  advance(ms: number): void;
  /** Every delay passed to sleep(), in call order. */
  readonly sleeps: number[];
}

/** Starts at the real current time by default, so HTTP-dates from real servers stay meaningful. */
export function createFakeClock(startMs: number = Date.now()): FakeClock {
  let current = startMs;
  const sleeps: number[] = [];
  return {
    now: () => current,
    sleep(ms) {
      sleeps.push(ms);
      current += ms;
      return Promise.resolve();
    },
    advance(ms) {
      current += ms;
    },
    sleeps,
  };
}

export interface ManualClock {
  now(): number;
  /** Resolves once advance() has moved the clock `ms` on, or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Moves the clock on, waking the sleepers due by then (in order), and lets their work run. */
  advance(ms: number): Promise<void>;
  /** Sleeps still waiting. */
  pending(): number;
}

/** Virtual time that only moves when the test says so: for code that waits on several things at once. */
export function createManualClock(startMs: number = Date.now()): ManualClock {
  let current = startMs;
  let sleepers: { atMs: number; wake: () => void }[] = [];
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  return {
    now: () => current,
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        const sleeper = { atMs: current + Math.max(0, ms), wake: resolve };
        sleepers.push(sleeper);
        signal?.addEventListener("abort", () => {
          sleepers = sleepers.filter((s) => s !== sleeper);
          resolve();
        }, { once: true });
      });
    },
    async advance(ms) {
      const target = current + ms;
      await settle();
      while (true) {
        const due = sleepers.filter((s) => s.atMs <= target).sort((a, b) => a.atMs - b.atMs)[0];
        if (!due) break;
        current = Math.max(current, due.atMs);
        sleepers = sleepers.filter((s) => s !== due);
        due.wake();
        await settle();
      }
      current = target;
      await settle();
    },
    pending: () => sleepers.length,
  };
}
