// Does the signature comparison take the same time wherever the inputs first differ? Measured on
// long inputs so an early-exit comparison would stand out by orders of magnitude; judged on the
// median of paired, interleaved rounds so load on the machine cannot tip the result.
import { describe, expect, it } from "vitest";
import { timingSafeEqual } from "../../shared/contract/signer.ts";

const compare: (a: Uint8Array, b: Uint8Array) => boolean = timingSafeEqual;

const LENGTH = 256 * 1024;
const WARM_UP = 100;
const ROUNDS = 201;
const CALLS_PER_SAMPLE = 4;

function differingAt(source: Uint8Array, index: number): Uint8Array {
  const copy = source.slice();
  copy[index] ^= 0xff;
  return copy;
}

function sample(a: Uint8Array, b: Uint8Array): number {
  let equal = false;
  const start = performance.now();
  for (let i = 0; i < CALLS_PER_SAMPLE; i++) equal = compare(a, b) || equal;
  const elapsed = performance.now() - start;
  if (equal) throw new Error("inputs were meant to differ");
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

describe("timingSafeEqual", () => {
  it("compares correctly", () => {
    const a = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(compare(a, a.slice())).toBe(true);
    expect(compare(a, differingAt(a, 0))).toBe(false);
    expect(compare(a, differingAt(a, 63))).toBe(false);
    expect(compare(a, a.slice(0, 63))).toBe(false);
  });

  it("takes as long when the first byte differs as when only the last does", () => {
    const a = Uint8Array.from({ length: LENGTH }, (_, i) => (i * 31 + 7) & 0xff);
    const first = differingAt(a, 0);
    const last = differingAt(a, LENGTH - 1);
    for (let i = 0; i < WARM_UP; i++) {
      sample(a, first);
      sample(a, last);
    }
    // Each round times both cases back to back, alternating which goes first, and keeps their
    // ratio: a slow moment on the machine slows both halves of a pair alike.
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const [tFirst, tLast] = round % 2 === 0
        ? [sample(a, first), sample(a, last)]
        : [sample(a, last), sample(a, first)].reverse();
      ratios.push((tFirst + 1e-6) / (tLast + 1e-6));
    }
    // Same work either way gives about 1; an early exit at byte 0 gives well under 0.1.
    const ratio = median(ratios);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
