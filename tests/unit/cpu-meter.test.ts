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

  it("lets the first batch run, then keeps the dearest batch's cost free", () => {
    const clock = fakeClock(0);
    const cpu = cpuAllowance(readingCpuMeter(clock.read), 1000, 100);
    expect(cpu.nextBatchFits()).toBe(true);
    clock.spend(300);
    cpu.batchDone(100, 0);
    // 300 spent + 300 for the next batch <= 1000
    expect(cpu.nextBatchFits()).toBe(true);
    clock.spend(400);
    cpu.batchDone(100, 300);
    // 700 spent + 400 (the dearest) > 1000: a batch started now could end past the budget.
    expect(cpu.nextBatchFits()).toBe(false);
  });

  it("scales a partial batch's per-event cost to a full batch", () => {
    const clock = fakeClock(0);
    const cpu = cpuAllowance(readingCpuMeter(clock.read), 1000, 100);
    clock.spend(100);
    cpu.batchDone(20, 0); // 5 ms per event: a full batch of 100 would cost 500
    expect(cpu.nextBatchFits()).toBe(true); // 100 + 500
    clock.spend(450);
    expect(cpu.nextBatchFits()).toBe(false); // 550 + 500
  });

  it("estimates from finished rounds where nothing can be read", () => {
    const meter = estimatingCpuMeter(2);
    const cpu = cpuAllowance(meter, 1000, 200);
    const started = meter.usedMs();
    cpu.batchDone(200, started);
    expect(meter.source).toBe("estimate");
    expect(cpu.spentMs()).toBe(400);
    expect(cpu.nextBatchFits()).toBe(true); // 400 + 400
    cpu.batchDone(200, meter.usedMs());
    expect(cpu.nextBatchFits()).toBe(false); // 800 + 400
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
