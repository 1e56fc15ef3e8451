// What a Dataverse response says about its service protection limits (Microsoft's "Service
// protection API limits": per user and web server, 6,000 requests and 1,200 s of combined execution
// time in a sliding 300 s window). Every response may carry
//   x-ms-ratelimit-burst-remaining-xrm-requests  requests still accepted in the window;
//   x-ms-ratelimit-time-remaining-xrm-requests   execution time still allowed (a number, ms here);
// and a 429 carries Retry-After. Microsoft calls the two counts a debugging aid, and they reset when
// a request lands on another web server; the bucket therefore treats the request count as a ceiling
// to stay under, and a 429 still corrects it. The execution time is not read: it depends on what
// other clients of the same user do, and when it runs out Dataverse answers 429 with Retry-After,
// which stops the bucket all the same. The policy half of the throttle (throttle-bucket.ts is the
// mechanism).
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

// A 429 stops every start for as long as it says (the server's word on when anything will be
// accepted), up to an hour. DYNAMICS_RETRY_AFTER_CAP_MS still bounds one request's sleep before its
// retry; a send whose budget cannot outlast the wait is refused before it goes out.
const MAX_BLOCK_MS = 3_600_000;

/** The hints of one response. */
export function throttleHints(status: number, headers: Headers, nowMs: number): ThrottleHints {
  const burst = count(headers.get(BURST_REMAINING_HEADER));
  const remaining = burst === null ? null : Math.floor(burst);
  const retryAfterMs = status === 429 ? retryAfterFromHeaders(headers, nowMs, MAX_BLOCK_MS) : null;
  return { remaining, retryAfterMs };
}
