// What a Dataverse response says about its service protection limits (Microsoft's "Service
// protection API limits": per user and web server, 6,000 requests and 1,200 s of combined execution
// time in a sliding 300 s window). Every response may carry
//   x-ms-ratelimit-burst-remaining-xrm-requests  requests still accepted in the window;
//   x-ms-ratelimit-time-remaining-xrm-requests   execution time still allowed (a number, ms here);
// and a 429 carries Retry-After. Microsoft calls the two counts a debugging aid, and they reset when
// a request lands on another web server; the bucket therefore treats them as a ceiling to stay under,
// and a 429 still corrects it. The policy half of the throttle (throttle-bucket.ts is the mechanism).
import { retryAfterFromHeaders } from "./retry-after.ts";
import type { ThrottleHints } from "./throttle-bucket.ts";

export const BURST_REMAINING_HEADER = "x-ms-ratelimit-burst-remaining-xrm-requests";
export const TIME_REMAINING_HEADER = "x-ms-ratelimit-time-remaining-xrm-requests";

/** A non-negative number as Dataverse writes it ("5999", "1,199,987.50"); null when unusable. */
function count(value: string | null): number | null {
  const text = value?.trim().replaceAll(",", "");
  if (!text || !/^\d+(\.\d+)?$/.test(text)) return null;
  return Number(text);
}

/** The hints of one response; `retryAfterCapMs` bounds a 429's wait as it bounds a retry's. */
export function throttleHints(
  status: number,
  headers: Headers,
  nowMs: number,
  retryAfterCapMs: number,
): ThrottleHints {
  const burst = count(headers.get(BURST_REMAINING_HEADER));
  const time = count(headers.get(TIME_REMAINING_HEADER));
  // No execution time left stops requests as surely as no requests left.
  const remaining = time !== null && time <= 0 ? 0 : burst === null ? null : Math.floor(burst);
  const retryAfterMs = status === 429
    ? retryAfterFromHeaders(headers, nowMs, retryAfterCapMs)
    : null;
  return { remaining, retryAfterMs };
}
