// One token bucket per Dynamics client (so per process), shared by every request it sends: webhook
// sends, their in-request retries and the reconcile reader's GETs. The server fills it: a response
// may say how many requests the current window still accepts, and a 429 says how long nothing will
// be. Requests start only while the last count, less what was started since, is above zero.
//
// It also learns the rate, so the limit is kept rather than found by being refused: the largest
// count seen gives the window's size in requests, and the first 429 once that many were accepted
// gives its length (its Retry-After ends when the oldest of them leaves the window). From then on,
// when the window is spent, it knows when a place is sure to be free again: one window after the
// answer to the oldest of the last `limit` requests it accepted (the server counted each before
// answering it, and the length errs long, being measured from when the oldest was sent). Then one
// request goes alone, and its count decides for the rest. Before it knows that, a spent window with
// nothing in flight sends one request at once, and its answer (a count, or a 429's Retry-After)
// decides. Without any hints (a plain server) it never holds a request back.
//
// Mechanism only: which headers carry the hints is rate-limit-headers.ts's business. Pure: the clock
// and the sleep are injected. Written here, not taken from `limiter`, `bottleneck` or `p-throttle`:
// those refill at a rate configured up front from their own timers, while this bucket's level is what
// the server last said, counts the requests in flight against it, and is driven by a fake clock.

/** What one response told the bucket; null fields when the response did not say. */
export interface ThrottleHints {
  /** Requests the server still accepts in its window, this one already counted. */
  remaining: number | null;
  /** A 429: nothing should start for this long. */
  retryAfterMs: number | null;
}

export interface Permit {
  /** The request goes out now (after credentials and signing); else the grant's time counts. */
  send(): void;
  /** The request was answered (hints from its response) or failed without one (null). */
  settle(hints: ThrottleHints | null): void;
  /** The request was not sent after all: its place in the window is given back. */
  cancel(): void;
}

export type Acquired =
  | { ok: true; permit: Permit }
  /** No permit by the deadline, or the caller aborted; `waitMs` when the wait is known. */
  | { ok: false; reason: "deadline" | "aborted"; waitMs: number | null };

export interface ThrottleBucket {
  /** Waits, first come first served, for a permit to start one request by `deadlineMs`. */
  acquire(options: { deadlineMs: number; signal?: AbortSignal }): Promise<Acquired>;
  /** What the bucket believes now (tests, logs). */
  snapshot(): {
    available: number;
    inFlight: number;
    waiting: number;
    blockedForMs: number;
    /** The window as learned so far. */
    limit: number | null;
    windowMs: number | null;
  };
}

export interface ThrottleBucketDeps {
  now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts (a wake-up the bucket no longer needs). */
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
  /** Tickets of the requests not yet answered. */
  const inFlight = new Set<number>();
  /**
   * Tickets of requests that got no answer (timed out, connection lost): the server may have counted
   * them at any time, so each stays uncounted until a request alone from start to answer is counted.
   */
  const lost = new Set<number>();
  /** Requests in flight that an earlier-started one was answered (or lost) during. */
  const overtaken = new Set<number>();
  /** The newest count the server gave, the ticket of the request it answered, and when. */
  let known: { remaining: number; ticket: number } | null = null;
  /** Tickets handed out after `known.ticket` whose request was not sent. */
  let cancelled = new Set<number>();
  let blockedUntil = 0;
  /** The window as learned: its size in requests and its length. */
  let limit: number | null = null;
  let windowMs: number | null = null;
  /** The last `limit` requests the server accepted (answered, not with a 429): sent and answered. */
  const accepted: { sentMs: number; answeredMs: number }[] = [];
  const queue: Waiter[] = [];
  let wake: { atMs: number; stop: AbortController } | null = null;

  /** How many more requests may start now (Infinity while the server has not said). */
  function available(): number {
    return known === null
      ? Number.POSITIVE_INFINITY
      : level(known.remaining, known.ticket) + cancelled.size;
  }

  /** What a count given for request `ticket` leaves now. */
  function level(remaining: number, ticket: number): number {
    // Requests started after the counted one may not have reached the server when it was counted,
    // nor those started before it that are still unanswered (arrival order is not start order).
    let uncounted = issued - ticket;
    for (const other of inFlight) if (other < ticket) uncounted += 1;
    for (const other of lost) if (other < ticket) uncounted += 1;
    return remaining - uncounted;
  }

  /** When a spent window surely has a place again; null when the window is not learned yet. */
  function surelyFreeAt(): number | null {
    if (limit === null || windowMs === null || accepted.length < limit) return null;
    // Of any `limit` requests in the window, the oldest was counted before the answer to the
    // `limit`-th latest answered; it leaves the window one window after that at the latest.
    return accepted[accepted.length - limit].answeredMs + windowMs;
  }

  function learn(
    flight: { ticket: number; alone: boolean; whole: boolean; sentMs: number },
    hints: ThrottleHints,
  ) {
    const { ticket, sentMs } = flight;
    const t = now();
    if (hints.remaining !== null) {
      limit = Math.max(limit ?? 0, hints.remaining + 1);
      // Answers overtake one another: a request started earlier but counted later may be missing
      // from this count. So a count is believed when no earlier request was answered while this
      // one was in flight (each was counted before it, or is still in flight and subtracted), or
      // when it allows less than the one held.
      const newer = known === null || (flight.whole && ticket > known.ticket);
      if (newer || level(hints.remaining, ticket) < available()) {
        known = { remaining: hints.remaining, ticket };
        cancelled = new Set([...cancelled].filter((c) => c > ticket));
      }
      if (flight.alone && issued === ticket) lost.clear();
    }
    if (hints.retryAfterMs === null) remember(sentMs, t);
    else block(t, hints.retryAfterMs);
  }

  /** A request the server may have admitted; only a server that counts needs them remembered. */
  function remember(sentMs: number, answeredMs: number) {
    if (limit === null) return;
    accepted.push({ sentMs, answeredMs });
    if (accepted.length > limit) accepted.splice(0, accepted.length - limit);
  }

  function block(t: number, retryAfterMs: number) {
    blockedUntil = Math.max(blockedUntil, t + retryAfterMs);
    // The window is full of our last `limit` accepted requests; the oldest leaves when the
    // Retry-After ends. Measured from the earliest of them to be sent, the length errs long.
    if (limit !== null && accepted.length >= limit) {
      let oldest = t;
      for (let i = accepted.length - limit; i < accepted.length; i++) {
        oldest = Math.min(oldest, accepted[i].sentMs);
      }
      windowMs = Math.max(windowMs ?? 0, t + retryAfterMs - oldest);
    }
  }

  function grant(): Permit {
    issued += 1;
    const ticket = issued;
    const alone = inFlight.size === 0;
    inFlight.add(ticket);
    let sentMs = now();
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      inFlight.delete(ticket);
      overtaken.delete(ticket);
      for (const other of inFlight) if (other > ticket) overtaken.add(other);
      return true;
    };
    return {
      send() {
        sentMs = now();
      },
      settle(hints) {
        const whole = !overtaken.has(ticket);
        if (!finish()) return;
        if (hints) learn({ ticket, alone, whole, sentMs }, hints);
        else if (limit !== null) {
          // Taken, as far as we know: admitted, in the window until one window after now.
          lost.add(ticket);
          remember(sentMs, now());
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
    // Until when nothing will start, when that is known: a 429's wait, or a spent window's.
    const spent = available() <= 0 && inFlight.size === 0;
    const waitUntil = blockedForMs > 0 ? blockedUntil : spent ? surelyFreeAt() : null;
    // Whoever cannot be served by their deadline is told so now, wherever they stand in the queue.
    for (let i = queue.length - 1; i >= 0; i--) {
      const waiter = queue[i];
      if (t >= waiter.deadlineMs || (waitUntil !== null && waitUntil > waiter.deadlineMs)) {
        queue.splice(i, 1);
        const waitMs = waitUntil !== null && waitUntil > t ? waitUntil - t : null;
        leave(waiter, { ok: false, reason: "deadline", waitMs });
      }
    }
    while (queue.length > 0 && blockedForMs === 0) {
      // Spent: wait for an answer in flight, or until a place is sure to be free; then one request
      // goes alone to get a fresh count.
      if (available() <= 0 && (inFlight.size > 0 || (surelyFreeAt() ?? t) > t)) break;
      leave(queue.shift()!, { ok: true, permit: grant() });
    }
    scheduleWake(t);
  }

  function scheduleWake(t: number) {
    let atMs = Number.POSITIVE_INFINITY;
    if (queue.length > 0) {
      for (const waiter of queue) atMs = Math.min(atMs, waiter.deadlineMs);
      if (blockedUntil > t) atMs = Math.min(atMs, blockedUntil);
      else if (available() <= 0 && inFlight.size === 0) {
        atMs = Math.min(atMs, surelyFreeAt() ?? atMs);
      }
    }
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
      inFlight: inFlight.size,
      waiting: queue.length,
      blockedForMs: Math.max(0, blockedUntil - now()),
      limit,
      windowMs,
    }),
  };
}
