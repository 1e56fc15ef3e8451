import { describe, expect, it } from "vitest";
import { createCircuitBreaker } from "../../shared/dynamics/circuit-breaker.ts";
import { createFakeClock } from "../support/fake-clock.ts";

function breaker(failureThreshold = 3, cooldownMs = 1000) {
  const clock = createFakeClock(0);
  return { clock, circuit: createCircuitBreaker({ failureThreshold, cooldownMs, now: clock.now }) };
}

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive failures", () => {
    const { circuit } = breaker(3);
    circuit.recordFailure();
    circuit.recordFailure();
    expect(circuit.state()).toBe("closed");
    expect(circuit.tryAcquire()).toBe(true);
    circuit.recordFailure();
    expect(circuit.state()).toBe("open");
    expect(circuit.tryAcquire()).toBe(false);
    expect(circuit.remainingCooldownMs()).toBe(1000);
  });

  it("a success in between resets the count", () => {
    const { circuit } = breaker(2);
    circuit.recordFailure();
    circuit.recordSuccess();
    circuit.recordFailure();
    expect(circuit.state()).toBe("closed");
  });

  it("lets exactly one probe through after the cooldown; its success closes", () => {
    const { clock, circuit } = breaker(1, 1000);
    circuit.recordFailure();
    clock.advance(999);
    expect(circuit.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(circuit.state()).toBe("half-open");
    expect(circuit.tryAcquire()).toBe(true);
    expect(circuit.tryAcquire()).toBe(false);
    circuit.recordSuccess();
    expect(circuit.state()).toBe("closed");
    expect(circuit.tryAcquire()).toBe(true);
  });

  it("a failed probe re-opens for a full cooldown", () => {
    const { clock, circuit } = breaker(5, 1000);
    for (let i = 0; i < 5; i++) circuit.recordFailure();
    clock.advance(1000);
    expect(circuit.tryAcquire()).toBe(true);
    circuit.recordFailure();
    expect(circuit.state()).toBe("open");
    expect(circuit.remainingCooldownMs()).toBe(1000);
  });

  it("a released probe lets the next caller probe", () => {
    const { clock, circuit } = breaker(1, 10);
    circuit.recordFailure();
    clock.advance(10);
    expect(circuit.tryAcquire()).toBe(true);
    circuit.release();
    expect(circuit.tryAcquire()).toBe(true);
  });
});
