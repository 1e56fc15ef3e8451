// One token bucket per Dynamics client (so per process), shared by every request it sends: webhook
// sends, their in-request retries and the reconcile reader's GETs. The server fills it: every
// response may say how many requests the current window still accepts, and a 429 says how long
// nothing will be accepted. Requests start only while the last count, less what was started since,
// is above zero; so the limit is kept, not found by being refused. Without such hints (a plain server)
// it never holds a request back.
//
// Mechanism only: which headers carry the hints is rate-limit-headers.ts's business. Pure: the clock
// and the sleep are injected. Written here, not taken from `limiter`, `bottleneck` or `p-throttle`:
// those refill at a rate configured up front from their own clocks, while this bucket's level is
// whatever the server last said, it must count the requests still in flight against it, and tests
// drive it with a fake clock.

/** What one response told the bucket; null fields when the response did not say. */
export interface ThrottleHints {
  /** Requests the server still accepts in its window, this one already counted. */
  remaining: number | null;
  /** Nothing should start for this long (a 429's Retry-After). */
  retryAfterMs: number | null;
}

export interface Permit {
  /** The request was answered (hints from its response) or failed without one (null). */
  settle(hints: ThrottleHints | null): void;
  /** The request was not sent after all: its place in the window is given back. */
  cancel(): void;
}

export type Acquired =
  | { ok: true; permit: Permit }
  /** No permit before the deadline, or the caller aborted; `waitMs` when the wait is known. */
  | { ok: false; reason: "deadline" | "aborted"; waitMs: number | null };

export interface ThrottleBucket {
  /** Waits, first come first served, for a permit to start one request by `deadlineMs`. */
  acquire(options: { deadlineMs: number; signal?: AbortSignal }): Promise<Acquired>;
  /** For tests and logs: what the bucket believes now. */
  snapshot(): { available: number; inFlight: number; waiting: number; blockedForMs: number };
}

export interface ThrottleBucketDeps {
  now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts (the bucket cancels a wake-up it no longer needs). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Waiter {
  deadlineMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (acquired: Acquired) => void;
}

export function createThrottleBucket(deps: ThrottleBucketDeps): ThrottleBucket {
  const { now } = deps;
  /** Permits handed out so far; a permit's ticket is the value after its own. */
  let issued = 0;
  let inFlight = 0;
  /** The newest count the server gave, and the ticket of the request it answered. */
  let known: { remaining: number; ticket: number } | null = null;
  /** Tickets handed out after `known.ticket` whose request was not sent. */
  let cancelled = new Set<number>();
  let blockedUntil = 0;
  const queue: Waiter[] = [];
  let wake: { atMs: number; stop: AbortController } | null = null;

  /** How many more requests may start now (Infinity while the server has not said). */
  function available(): number {
    if (known === null) return Number.POSITIVE_INFINITY;
    // Requests started after the counted one may not have reached the server yet: count them too.
    return known.remaining - (issued - known.ticket - cancelled.size);
  }

  function grant(): Permit {
    issued += 1;
    inFlight += 1;
    const ticket = issued;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      inFlight -= 1;
      return true;
    };
    return {
      settle(hints) {
        if (!finish()) return;
        if (hints?.remaining != null && (known === null || ticket >= known.ticket)) {
          known = { remaining: hints.remaining, ticket };
          cancelled = new Set([...cancelled].filter((t) => t > ticket));
        }
        if (hints?.retryAfterMs != null) {
          blockedUntil = Math.max(blockedUntil, now() + hints.retryAfterMs);
        }
        pump();
      },
      cancel() {
        if (!finish()) return;
        if (known === null || ticket > known.ticket) cancelled.add(ticket);
        pump();
      },
    };
  }

  function leave(waiter: Waiter, acquired: Acquired) {
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(acquired);
  }

  /** Serves the queue in order as far as the window allows, then sets the next wake-up. */
  function pump() {
    const t = now();
    const blockedForMs = Math.max(0, blockedUntil - t);
    // Whoever cannot be served by their deadline is told so now, wherever they stand in the queue.
    for (let i = queue.length - 1; i >= 0; i--) {
      const waiter = queue[i];
      if (t >= waiter.deadlineMs || t + blockedForMs > waiter.deadlineMs) {
        queue.splice(i, 1);
        leave(waiter, { ok: false, reason: "deadline", waitMs: blockedForMs || null });
      }
    }
    while (queue.length > 0 && blockedForMs === 0) {
      // The window is spent and no answer is on its way to say otherwise: one request goes alone,
      // and its answer (a fresh count, or a 429's Retry-After) decides for the rest.
      if (available() <= 0 && inFlight > 0) break;
      leave(queue.shift()!, { ok: true, permit: grant() });
    }
    scheduleWake(t);
  }

  function scheduleWake(t: number) {
    let atMs = Number.POSITIVE_INFINITY;
    for (const waiter of queue) atMs = Math.min(atMs, waiter.deadlineMs);
    if (queue.length > 0 && blockedUntil > t) atMs = Math.min(atMs, blockedUntil);
    if (wake && wake.atMs === atMs) return;
    wake?.stop.abort();
    wake = null;
    if (atMs === Number.POSITIVE_INFINITY) return;
    const current = { atMs, stop: new AbortController() };
    wake = current;
    void deps.sleep(Math.max(0, atMs - t), current.stop.signal).then(() => {
      if (wake !== current) return;
      wake = null;
      pump();
    });
  }

  return {
    acquire({ deadlineMs, signal }) {
      if (signal?.aborted) return Promise.resolve({ ok: false, reason: "aborted", waitMs: null });
      return new Promise<Acquired>((resolve) => {
        const waiter: Waiter = { deadlineMs, signal, resolve };
        if (signal) {
          waiter.onAbort = () => {
            const at = queue.indexOf(waiter);
            if (at < 0) return;
            queue.splice(at, 1);
            leave(waiter, { ok: false, reason: "aborted", waitMs: null });
            pump();
          };
          signal.addEventListener("abort", waiter.onAbort, { once: true });
        }
        queue.push(waiter);
        pump();
      });
    },
    snapshot: () => ({
      available: available(),
      inFlight,
      waiting: queue.length,
      blockedForMs: Math.max(0, blockedUntil - now()),
    }),
  };
}
