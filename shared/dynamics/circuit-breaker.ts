// Consecutive-failure circuit breaker. During a Dynamics outage every pending event would otherwise
// spend its whole retry schedule on doomed requests; once `failureThreshold` attempts in a row fail,
// sends are refused locally for `cooldownMs`, then a single probe decides whether to close again.

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export interface CircuitBreaker {
  state(): CircuitState;
  /** True when a request may go out now; in half-open, only the one probe gets true. */
  tryAcquire(): boolean;
  /** Dynamics answered (any non-outage response, including 4xx and 429). */
  recordSuccess(): void;
  /** Outage signal: network error, timeout, 5xx. */
  recordFailure(): void;
  /** The acquired request ended without telling us anything (e.g. the caller aborted it). */
  release(): void;
  /** Milliseconds until an open circuit lets a probe through (0 unless open). */
  remainingCooldownMs(): number;
}

export function createCircuitBreaker(
  options: CircuitBreakerOptions,
): CircuitBreaker {
  const threshold = Math.max(
    1,
    options.failureThreshold,
  );
  const cooldownMs = Math.max(
    0,
    options.cooldownMs,
  );
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt: number | null = null;
  let probeInFlight = false;

  const state = (): CircuitState => {
    if (openedAt === null) return "closed";
    return now() - openedAt >= cooldownMs ? "half-open" : "open";
  };

  return {
    state,
    tryAcquire() {
      const current = state();
      if (current === "closed") return true;
      if (current === "open" || probeInFlight) return false;
      probeInFlight = true;
      return true;
    },
    recordSuccess() {
      failures = 0;
      openedAt = null;
      probeInFlight = false;
    },
    recordFailure() {
      failures += 1;
      // A failed probe re-opens at once; otherwise open on reaching the threshold.
      if (probeInFlight || failures >= threshold) openedAt = now();
      probeInFlight = false;
    },
    release() {
      probeInFlight = false;
    },
    remainingCooldownMs() {
      return openedAt === null ? 0 : Math.max(0, openedAt + cooldownMs - now());
    },
  };
}
