// The throttle bucket on a manual clock: what a Dataverse-like server says sets how many requests may
// start, nothing starts during a 429's Retry-After, a plain server slows nothing, and every acquirer
// is answered, first come first served.
import { describe, expect, it } from "vitest";
import {
  type Acquired,
  createThrottleBucket,
  type Permit,
  type ThrottleHints,
} from "../../shared/dynamics/throttle-bucket.ts";
import {
  BURST_REMAINING_HEADER,
  throttleHints,
  TIME_REMAINING_HEADER,
} from "../../shared/dynamics/rate-limit-headers.ts";
import { createManualClock } from "../support/fake-clock.ts";

const T0 = Date.parse("2026-11-23T10:00:00.000Z");
const FAR = T0 + 3_600_000;

function setup() {
  const clock = createManualClock(T0);
  const bucket = createThrottleBucket({ now: clock.now, sleep: clock.sleep });
  const results: { id: number; acquired: Acquired }[] = [];
  /** Starts `n` acquirers (ids in arrival order); their answers land in `results`. */
  const acquire = (n: number, options: { deadlineMs?: number; signal?: AbortSignal } = {}) => {
    const first = nextId;
    nextId += n;
    for (let id = first; id < first + n; id++) {
      void bucket.acquire({ deadlineMs: options.deadlineMs ?? FAR, signal: options.signal })
        .then((acquired) => results.push({ id, acquired }));
    }
  };
  let nextId = 0;
  const granted = () => results.filter((r) => r.acquired.ok).map((r) => r.id);
  const permitOf = (id: number): Permit => {
    const found = results.find((r) => r.id === id)?.acquired;
    if (!found?.ok) throw new Error(`acquirer ${id} holds no permit`);
    return found.permit;
  };
  return { clock, bucket, results, acquire, granted, permitOf, tick: () => clock.advance(0) };
}

const says = (remaining: number | null, retryAfterMs: number | null = null): ThrottleHints => ({
  remaining,
  retryAfterMs,
});

describe("throttle bucket", () => {
  it("holds nothing back while the server gives no hints", async () => {
    const t = setup();
    t.acquire(100);
    await t.tick();
    expect(t.granted()).toHaveLength(100);
    for (const id of t.granted()) t.permitOf(id).settle(id % 2 ? null : says(null));
    t.acquire(100);
    await t.tick();
    expect(t.granted()).toHaveLength(200);
    expect(t.clock.pending()).toBe(0);
    expect(t.bucket.snapshot()).toMatchObject({ available: Infinity, inFlight: 100, waiting: 0 });
  });

  it("lets start only what the last count allows, requests in flight counted against it", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(2));
    t.acquire(5);
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2]);
    // Answered before request 2 reached the server: 1 left then, and request 2 takes it.
    t.permitOf(1).settle(says(1));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2]);
    // A higher count from a request that had company may have overtaken a lower one: not believed.
    // Spent, nothing in flight: one request goes alone, and its count is.
    t.permitOf(2).settle(says(3));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2, 3]);
    t.permitOf(3).settle(says(3));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("counts a request that got no answer as taken: the server may have admitted it", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(5));
    t.acquire(3);
    await t.tick();
    t.permitOf(1).settle(null); // timed out: it may reach the server after request 2 did
    t.permitOf(2).settle(says(3));
    // 3 left when request 2 was counted, less request 3 (in flight) and request 1 (unknown).
    expect(t.bucket.snapshot()).toMatchObject({ available: 1, inFlight: 1 });
  });

  it("believes a higher count when no earlier request was answered during its flight", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(2));
    t.acquire(4);
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2]);
    // The window slid: 5 left when request 1 was counted, request 2 maybe not yet among them.
    t.permitOf(1).settle(says(5));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2, 3, 4]);
  });

  it("believes the lower count when answers overtake each other", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(10));
    t.acquire(3);
    await t.tick();
    // Request 2 reached the server after request 3 and was answered first, with what 3 had left.
    t.permitOf(2).settle(says(7));
    t.permitOf(3).settle(says(8));
    t.permitOf(1).settle(says(9));
    // 7 are left; the bucket errs one low, never high: request 3 started after request 2, so it
    // counts as not yet arrived when 2 was counted. Believing the last answer (9) would allow 9.
    expect(t.bucket.snapshot().available).toBe(6);
  });

  it("ignores a count older than the one it has", async () => {
    const t = setup();
    t.acquire(2);
    await t.tick();
    t.permitOf(1).settle(says(0)); // the later request: nothing left
    t.permitOf(0).settle(says(50)); // the earlier one, answered late
    t.acquire(2);
    await t.tick();
    // Window spent, nothing in flight: one request goes alone to learn what the window holds.
    expect(t.granted()).toEqual([0, 1, 2]);
  });

  it("starts nothing during a 429's Retry-After, then one request before the rest", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(0, 5_000));
    t.acquire(10);
    await t.clock.advance(4_999);
    expect(t.granted()).toEqual([0]);
    await t.clock.advance(1);
    expect(t.granted()).toEqual([0, 1]);
    t.permitOf(1).settle(says(20));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("after a plain server's 429 lets everyone go once Retry-After has passed", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(null, 2_000));
    t.acquire(5);
    await t.clock.advance(1_999);
    expect(t.granted()).toEqual([0]);
    await t.clock.advance(1);
    expect(t.granted()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("against a sliding window of 50: learns it, then keeps it without a refusal", async () => {
    const t = setup();
    // A Dataverse-like server: 50 requests in any 10 s, counted as they arrive (in grant order),
    // each answer saying what was left when it arrived; the answers come back scrambled.
    const accepted: number[] = [];
    const arrivals = new Map<number, ThrottleHints>();
    const answered: number[] = [];
    let refused = 0;
    const serveSome = () => {
      for (const id of t.granted().filter((id) => !arrivals.has(id))) {
        const inWindow = accepted.filter((at) => at > t.clock.now() - 10_000);
        if (inWindow.length < 50) {
          accepted.push(t.clock.now());
          arrivals.set(id, says(50 - inWindow.length - 1));
        } else {
          refused += 1;
          arrivals.set(id, says(0, inWindow[0] + 10_000 - t.clock.now()));
        }
      }
      for (const id of t.granted().filter((id) => !answered.includes(id)).reverse()) {
        answered.push(id);
        t.permitOf(id).settle(arrivals.get(id)!);
      }
    };
    const rounds = async () => {
      for (let round = 0; round < 10; round++) {
        serveSome();
        await t.tick();
      }
    };
    t.acquire(1);
    await t.tick();
    serveSome();
    t.acquire(199);
    await rounds();
    // 50 accepted, then the one request that learned the Retry-After; the rest wait.
    expect(answered).toHaveLength(51);
    expect(refused).toBe(1);
    expect(t.bucket.snapshot()).toMatchObject({
      inFlight: 0,
      waiting: 149,
      limit: 50,
      windowMs: 10_000,
    });
    // Each later window: 50 more as the places free, and no refusal.
    await t.clock.advance(10_000);
    await rounds();
    expect([answered.length, refused]).toEqual([101, 1]);
    await t.clock.advance(9_999);
    await rounds();
    expect([answered.length, refused]).toEqual([101, 1]);
    await t.clock.advance(1);
    await rounds();
    expect([answered.length, refused]).toEqual([151, 1]);
    // First come, first served: the grants follow arrival order.
    expect(t.granted()).toEqual(Array.from({ length: 151 }, (_, i) => i));
  });

  it("paces a spread-out window as its places free, one by one", async () => {
    const t = setup();
    // Learned: 2 requests per 1 s (the first answer says 1 left; the 429 comes 1 s after the first).
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(1));
    await t.clock.advance(400);
    t.acquire(1);
    await t.tick();
    t.permitOf(1).settle(says(0));
    t.acquire(1);
    await t.tick();
    t.permitOf(2).settle(says(0, 600));
    expect(t.bucket.snapshot()).toMatchObject({ limit: 2, windowMs: 1_000 });
    t.acquire(3);
    await t.clock.advance(599);
    expect(t.granted()).toEqual([0, 1, 2]);
    await t.clock.advance(1); // t = 1 s: request 0 has left
    expect(t.granted()).toEqual([0, 1, 2, 3]);
    t.permitOf(3).settle(says(0));
    await t.clock.advance(399);
    expect(t.granted()).toEqual([0, 1, 2, 3]);
    await t.clock.advance(1); // t = 1.4 s: request 1 has left
    expect(t.granted()).toEqual([0, 1, 2, 3, 4]);
  });

  it("answers every acquirer: refused at once when the wait outlasts its deadline", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(0, 5_000));
    t.acquire(1, { deadlineMs: T0 + 3_000 });
    await t.tick();
    expect(t.results[1]).toEqual({
      id: 1,
      acquired: { ok: false, reason: "deadline", waitMs: 5_000 },
    });
  });

  it("answers every acquirer: refused at once when a learned window frees after its deadline", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(0)); // a window of 1
    t.acquire(1);
    await t.tick();
    t.permitOf(1).settle(says(0, 1_000)); // ... that lasts 1 s
    expect(t.bucket.snapshot()).toMatchObject({ limit: 1, windowMs: 1_000 });
    t.acquire(1);
    await t.clock.advance(1_000);
    t.permitOf(2).settle(says(0)); // spent again: the place frees 1 s after this answer
    t.acquire(1, { deadlineMs: T0 + 1_500 });
    t.acquire(1);
    await t.tick();
    expect(t.results.find((r) => r.id === 3)?.acquired).toEqual({
      ok: false,
      reason: "deadline",
      waitMs: 1_000,
    });
    await t.clock.advance(1_000);
    expect(t.granted()).toEqual([0, 1, 2, 4]);
  });

  it("answers every acquirer: refused at its deadline while waiting for answers in flight", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(1));
    t.acquire(1); // takes the last place and stays in flight
    t.acquire(1, { deadlineMs: T0 + 1_000 });
    t.acquire(1);
    await t.clock.advance(999);
    expect(t.results).toHaveLength(2);
    await t.clock.advance(1);
    expect(t.results.find((r) => r.id === 2)?.acquired).toEqual({
      ok: false,
      reason: "deadline",
      waitMs: null,
    });
    t.permitOf(1).settle(says(5));
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 3]);
    expect(t.clock.pending()).toBe(0);
  });

  it("lets an aborted acquirer go and serves the next", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(0, 1_000));
    const abort = new AbortController();
    t.acquire(1, { signal: abort.signal });
    t.acquire(1);
    await t.tick();
    abort.abort();
    await t.tick();
    expect(t.results[1]).toEqual({
      id: 1,
      acquired: { ok: false, reason: "aborted", waitMs: null },
    });
    await t.clock.advance(1_000);
    expect(t.granted()).toEqual([0, 2]);
  });

  it("gives back the place of a request that was not sent", async () => {
    const t = setup();
    t.acquire(1);
    await t.tick();
    t.permitOf(0).settle(says(1));
    t.acquire(2);
    await t.tick();
    expect(t.granted()).toEqual([0, 1]);
    t.permitOf(1).cancel();
    t.permitOf(1).settle(says(0)); // after cancel: ignored
    await t.tick();
    expect(t.granted()).toEqual([0, 1, 2]);
    expect(t.bucket.snapshot()).toMatchObject({ available: 0, inFlight: 1 });
  });
});

describe("Dataverse's rate-limit headers", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it("reads the request count, and a 429's Retry-After", () => {
    expect(throttleHints(200, headers({ [BURST_REMAINING_HEADER]: "5999" }), T0))
      .toEqual({ remaining: 5999, retryAfterMs: null });
    expect(throttleHints(200, headers({ [BURST_REMAINING_HEADER]: "1,234" }), T0))
      .toEqual({ remaining: 1234, retryAfterMs: null });
    expect(
      throttleHints(
        429,
        headers({ [BURST_REMAINING_HEADER]: "0", "Retry-After": "7" }),
        T0,
      ),
    ).toEqual({ remaining: 0, retryAfterMs: 7_000 });
    // The server's word, up to an hour (a retry's own sleep is capped apart).
    expect(throttleHints(429, headers({ "Retry-After": "300" }), T0))
      .toEqual({ remaining: null, retryAfterMs: 300_000 });
    expect(throttleHints(429, headers({ "Retry-After": "86400" }), T0))
      .toEqual({ remaining: null, retryAfterMs: 3_600_000 });
    // Only a 429 stops everyone: a 503's Retry-After is that request's business.
    expect(throttleHints(503, headers({ "Retry-After": "7" }), T0))
      .toEqual({ remaining: null, retryAfterMs: null });
  });

  it("reads only the request count, and ignores what it cannot read", () => {
    // Execution time running out shows as a 429 with Retry-After, not through this count.
    expect(
      throttleHints(
        200,
        headers({ [BURST_REMAINING_HEADER]: "40", [TIME_REMAINING_HEADER]: "0.00" }),
        T0,
      ),
    ).toEqual({ remaining: 40, retryAfterMs: null });
    expect(throttleHints(200, headers({ [BURST_REMAINING_HEADER]: "12.00" }), T0))
      .toEqual({ remaining: 12, retryAfterMs: null });
    expect(throttleHints(200, headers({ [BURST_REMAINING_HEADER]: "-3" }), T0))
      .toEqual({ remaining: null, retryAfterMs: null });
    expect(throttleHints(200, headers({}), T0)).toEqual({ remaining: null, retryAfterMs: null });
  });
});
