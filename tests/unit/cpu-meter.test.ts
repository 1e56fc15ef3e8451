// The CPU side of a dispatch call's budget, with a fake CPU clock.
import { describe, expect, it } from "vitest";
import {
  cpuAllowance,
  estimatingCpuMeter,
  processCpuClock,
  readingCpuMeter,
} from "../../shared/outbox/cpu-meter.ts";

function fakeClock(startMs: number) {
  let ms = startMs;
  return { read: () => ms, spend: (n: number) => void (ms += n) };
}

describe("cpuAllowance", () => {
  it("counts from where the call began, not from the process's start", () => {
    const clock = fakeClock(5_000);
    const cpu = cpuAllowance(readingCpuMeter(clock.read), 1500, 100);
    clock.spend(40);
    expect(cpu.spentMs()).toBe(40);
  });

  it("claims a full first batch, then only what fits at the dearest per-event cost with headroom", () => {
    const clock = fakeClock(0);
    // 1000 ms, of which the last 5 % is never claimed into: 950 usable.
    const cpu = cpuAllowance(readingCpuMeter(clock.read), 1000, 100);
    expect(cpu.nextBatchLimit()).toBe(100);
    clock.spend(200);
    cpu.batchDone(100, 0); // 2 ms per event; with 1.5x headroom 3 ms
    expect(cpu.nextBatchLimit()).toBe(100); // 750 left: 250 would fit, capped at the batch size
    clock.spend(500);
    cpu.batchDone(100, 200); // 5 ms per event now: the dearest, 7.5 ms with headroom
    expect(cpu.nextBatchLimit()).toBe(33); // 250 left
    clock.spend(245);
    cpu.batchDone(33, 700); // 7.4 ms per event
    expect(cpu.nextBatchLimit()).toBe(0); // 5 left: not one event at 11 ms
  });

  it("claims nothing in the last 5 % of the budget", () => {
    const clock = fakeClock(0);
    const cpu = cpuAllowance(readingCpuMeter(clock.read), 100, 10);
    clock.spend(95);
    expect(cpu.nextBatchLimit()).toBe(0);
  });

  it("estimates from finished rounds where nothing can be read, sizing even the first batch", () => {
    const meter = estimatingCpuMeter(2);
    const cpu = cpuAllowance(meter, 1000, 500);
    expect(cpu.nextBatchLimit()).toBe(316); // 950 usable at 2 ms with 1.5x headroom
    cpu.batchDone(316, meter.usedMs());
    expect(meter.source).toBe("estimate");
    expect(cpu.spentMs()).toBe(632);
    expect(cpu.nextBatchLimit()).toBe(106); // 318 left at 3 ms
  });
});

describe("processCpuClock", () => {
  it("reads this process's CPU time, which only grows", () => {
    const read = processCpuClock();
    expect(read).not.toBeNull();
    const before = read!();
    let x = 0;
    for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    expect(read!()).toBeGreaterThan(before);
  });
});
