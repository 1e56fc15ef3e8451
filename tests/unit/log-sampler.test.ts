import { describe, expect, it } from "vitest";
import { createLogSampler } from "../../shared/http/log-sampler.ts";
import type { LogFields } from "../../shared/logger.ts";

function sampler(limit = 3, windowMs = 1000) {
  let now = 0;
  const lines: LogFields[] = [];
  const summaries: LogFields[] = [];
  const timers: { fn: () => void; at: number }[] = [];
  const log = createLogSampler({
    line: (f) => lines.push(f),
    summary: (f) => summaries.push(f),
    limit,
    windowMs,
    now: () => now,
    setTimer: (fn, ms) => timers.push({ fn, at: now + ms }),
  });
  return {
    log,
    lines,
    summaries,
    timers,
    advance: (ms: number) => (now += ms),
  };
}

describe("log sampler", () => {
  it("logs the first `limit` events of a window, then only counts them by reason", () => {
    const s = sampler();
    for (let i = 0; i < 1000; i++) s.log(i % 2 ? "bad_signature" : "stale", { n: i });
    expect(s.lines).toEqual([
      { reason: "stale", n: 0 },
      { reason: "bad_signature", n: 1 },
      { reason: "stale", n: 2 },
    ]);
    expect(s.summaries).toEqual([]);
    expect(s.timers.map((t) => t.at)).toEqual([1000]);
    s.advance(1000);
    s.timers[0].fn();
    expect(s.summaries).toEqual([{
      suppressed: 997,
      windowMs: 1000,
      suppressed_bad_signature: 499,
      suppressed_stale: 498,
    }]);
  });

  it("a later window logs again and summarises on its first event if the timer has not run", () => {
    const s = sampler(1);
    s.log("a");
    s.log("a");
    s.advance(1500);
    s.log("b");
    expect(s.lines).toEqual([{ reason: "a" }, { reason: "b" }]);
    expect(s.summaries).toEqual([{ suppressed: 1, windowMs: 1000, suppressed_a: 1 }]);
    s.timers[0].fn(); // the stale timer finds nothing left to report
    expect(s.summaries).toHaveLength(1);
  });

  it("a window without suppressed events writes no summary", () => {
    const s = sampler(5);
    s.log("a");
    s.advance(5000);
    s.log("a");
    expect(s.summaries).toEqual([]);
    expect(s.timers).toEqual([]);
  });

  it("writes the reason under the field it is told to", () => {
    const lines: LogFields[] = [];
    const log = createLogSampler({
      line: (f) => lines.push(f),
      summary: () => {},
      limit: 1,
      windowMs: 1000,
      reasonField: "status",
      now: () => 0,
      setTimer: () => {},
    });
    log("duplicate", { eventId: "e1" });
    expect(lines).toEqual([{ status: "duplicate", eventId: "e1" }]);
  });
});
