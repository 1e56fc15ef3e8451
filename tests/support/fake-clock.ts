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
