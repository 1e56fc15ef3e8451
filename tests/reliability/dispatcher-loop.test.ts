// The standalone dispatcher's loop (worker/dispatcher.ts) without a database: it keeps going after a
// failed round, pauses only when idle or after a failure, and stops when its signal aborts. The
// process itself is exercised by tests/long/crash-safety.test.ts.
import { describe, expect, it } from "vitest";
import { createWakeablePause, parseIdleMs, runDispatcherLoop } from "../../worker/dispatcher.ts";
import { createLogger } from "../../shared/logger.ts";
import type { DispatchCounts } from "../../shared/outbox/dispatcher.ts";

const counts = (claimed: number): DispatchCounts => ({
  claimed,
  delivered: claimed,
  retrying: 0,
  failed: 0,
  held: 0,
  released: 0,
  lostLeases: 0,
  cpuMs: 0,
});

/** Runs the loop over scripted rounds (a number = events claimed, an Error = a failed round). */
async function runScript(script: (number | Error)[]) {
  const stop = new AbortController();
  const pauses: number[] = [];
  const lines: string[] = [];
  let round = 0;
  await runDispatcherLoop({
    dispatch: () => {
      const step = script[round++];
      if (round >= script.length) stop.abort();
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(counts(step));
    },
    log: createLogger("info", (line) => lines.push(line)),
    signal: stop.signal,
    idleMs: 40,
    errorPauseMs: 300,
    pause: (ms) => {
      pauses.push(ms);
      return Promise.resolve();
    },
  });
  return { rounds: round, pauses, lines: lines.map((l) => JSON.parse(l)) };
}

describe("dispatcher loop", () => {
  it("goes straight on while there is work, pauses when idle, survives a failed round", async () => {
    const run = await runScript([
      100,
      100,
      0,
      new Error("connection terminated, Bearer abc.def.ghi"),
      5,
      0,
    ]);
    expect(run.rounds).toBe(6);
    // Busy rounds do not pause; the idle ones pause idleMs, the failed one errorPauseMs. The last
    // round ends the loop (its signal aborted) after its pause.
    expect(run.pauses).toEqual([40, 300, 40]);
    const failure = run.lines.find((l) => l.msg === "dispatch round failed");
    expect(failure.error).toContain("connection terminated");
    expect(failure.error).not.toContain("abc.def.ghi");
    expect(run.lines.filter((l) => l.msg === "dispatch round")).toHaveLength(3);
  });

  /** Whether `promise` has settled once pending callbacks have run, without any time passing. */
  async function settledNow(promise: Promise<void>): Promise<boolean> {
    let settled = false;
    void promise.then(() => (settled = true));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    return settled;
  }

  it("a wake cuts a pause short, and a wake during a round skips the next pause", async () => {
    const waker = createWakeablePause();
    const stop = new AbortController();
    const pausing = waker.pause(60_000, stop.signal);
    expect(await settledNow(pausing)).toBe(false);
    waker.wake();
    expect(await settledNow(pausing)).toBe(true);
    // Woken while no pause runs (during a round): the next pause ends at once, the one after waits.
    waker.wake();
    expect(await settledNow(waker.pause(60_000, stop.signal))).toBe(true);
    const waiting = waker.pause(60_000, stop.signal);
    expect(await settledNow(waiting)).toBe(false);
    stop.abort(); // ends the waiting pause (not awaited: the abort test checks that path)
  });

  it("an aborted signal ends a pause at once, and a pause on an aborted signal does not start", async () => {
    const stop = new AbortController();
    const pausing = createWakeablePause().pause(60_000, stop.signal);
    expect(await settledNow(pausing)).toBe(false);
    stop.abort();
    expect(await settledNow(pausing)).toBe(true);
    expect(await settledNow(createWakeablePause().pause(60_000, stop.signal))).toBe(true);
  });

  it("reads --idle-ms and rejects nonsense", () => {
    expect(parseIdleMs([])).toBe(1000);
    expect(parseIdleMs(["--idle-ms=20"])).toBe(20);
    expect(() => parseIdleMs(["--idle-ms=0"])).toThrow(/--idle-ms/);
    expect(() => parseIdleMs(["--idle-ms=abc"])).toThrow(/--idle-ms/);
  });
});
