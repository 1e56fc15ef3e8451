// Exponential backoff with "full jitter": the delay before retry n is uniform in [0, min(cap, base·2ⁿ)).
// Full jitter spreads a crowd of failed senders over the whole window, so they do not come back
// in lock-step and knock the recovering service over again.

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The upper bound of the delay before retry `retry` (0 = the first retry). */
export function backoffCeiling(
  retry: number,
  options: BackoffOptions,
): number {
  const base = Math.max(0, options.baseDelayMs);
  const cap = Math.max(0, options.maxDelayMs);
  // 2^retry overflows to Infinity for huge retry counts; min() with the cap keeps it finite.
  return Math.min(cap, base * 2 ** Math.max(0, retry));
}

/** A jittered delay in whole milliseconds, in [0, ceiling]; `random` returns [0, 1). */
export function backoffDelay(
  retry: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(retry, options));
}
