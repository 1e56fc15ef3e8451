import { describe, expect, it } from "vitest";
import {
  parseHttpDate,
  parseRetryAfter,
  retryAfterFromHeaders,
} from "../../shared/dynamics/retry-after.ts";

const NOW = Date.parse("2026-11-22T10:00:00.000Z");

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter("2", NOW)).toBe(2000);
    expect(parseRetryAfter(" 120 ", NOW)).toBe(120_000);
  });

  it("reads an IMF-fixdate relative to now", () => {
    expect(parseRetryAfter("Sun, 22 Nov 2026 10:00:05 GMT", NOW)).toBe(5000);
  });

  it("reads the obsolete RFC 850 and asctime forms as UTC", () => {
    expect(parseRetryAfter("Sunday, 22-Nov-26 10:00:07 GMT", NOW)).toBe(7000);
    expect(parseRetryAfter("Sun Nov 22 10:00:09 2026", NOW)).toBe(9000);
  });

  it("treats a date in the past as no wait", () => {
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:59:00 GMT", NOW)).toBe(0);
  });

  it("caps huge values", () => {
    expect(parseRetryAfter("86400", NOW, 60_000)).toBe(60_000);
    expect(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", NOW, 30_000)).toBe(30_000);
    expect(parseRetryAfter("99999999999999999999", NOW, 5000)).toBe(5000);
  });

  it.each([
    ["absent", null],
    ["undefined", undefined],
    ["empty", ""],
    ["blank", "   "],
    ["negative", "-5"],
    ["fractional", "1.5"],
    ["junk", "soon"],
    ["junk Date.parse would accept", "foo 2"],
    ["ISO 8601 (not an HTTP-date)", "2026-11-22T10:00:05Z"],
  ])("rejects %s", (_, value) => {
    expect(parseRetryAfter(value, NOW)).toBeNull();
  });
});

describe("parseHttpDate", () => {
  it("returns epoch milliseconds or null", () => {
    expect(parseHttpDate("Sun, 22 Nov 2026 10:00:00 GMT")).toBe(NOW);
    expect(parseHttpDate("Sun, 22 Nov 2026 10:00:00 PST")).toBeNull();
  });
});

describe("retryAfterFromHeaders", () => {
  it("prefers the millisecond hint over Retry-After", () => {
    const headers = new Headers({ "Retry-After": "1", "x-ms-retry-after-ms": "350" });
    expect(retryAfterFromHeaders(headers, NOW)).toBe(350);
    expect(retryAfterFromHeaders(new Headers({ "retry-after-ms": "40" }), NOW)).toBe(40);
  });

  it("falls back to Retry-After when the hint is junk, and caps both", () => {
    const headers = new Headers({ "Retry-After": "3", "retry-after-ms": "abc" });
    expect(retryAfterFromHeaders(headers, NOW)).toBe(3000);
    expect(retryAfterFromHeaders(new Headers({ "retry-after-ms": "90000" }), NOW, 1000)).toBe(1000);
  });

  it("is null without either header", () => {
    expect(retryAfterFromHeaders(new Headers(), NOW)).toBeNull();
  });
});
