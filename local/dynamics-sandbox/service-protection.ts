// Dataverse's service protection as the throttled endpoints (the webhook receiver and the listings
// collection) apply it while a throttle is set (state.ts models the sliding window): admission,
// the 429, and the two counts on every answer: the requests the window still accepts (as counted
// when this request was admitted, so concurrent requests each see their own place), and the
// execution time it still allows, in milliseconds with two decimals (Dataverse documents the latter
// only as "the remaining combined duration").
import type { Context, MiddlewareHandler } from "hono";
import {
  BURST_REMAINING_HEADER,
  TIME_REMAINING_HEADER,
} from "../../shared/dynamics/rate-limit-headers.ts";
import { DATAVERSE_CODES, dataverseError } from "./dataverse.ts";
import { recordExecution, type SandboxState, throttleRemaining, throttleWait } from "./state.ts";
import type { SandboxEnv } from "./webhook-receiver.ts";

/** Counts the request against the window: null when admitted, else the 429 to answer. */
export function admit(
  c: Context<SandboxEnv>,
  state: SandboxState,
  nowMs: number,
): Response | null {
  const waitMs = throttleWait(state, nowMs);
  const left = throttleRemaining(state, nowMs);
  if (left) c.set("admittedRemaining", left.requests);
  return waitMs === null
    ? null
    : throttled(state, waitMs, { millisecondHint: state.throttle?.millisecondHint });
}

/**
 * A 429 as Dataverse sends it: Retry-After in whole seconds (by default, the wait rounded up) and,
 * unless a scaled-down throttle asks for it, no other hint of the wait; the request-count code, and
 * the limit and window in the message.
 */
export function throttled(
  state: SandboxState,
  waitMs: number,
  { retryAfter = String(Math.ceil(waitMs / 1000)), millisecondHint = false }: {
    retryAfter?: string;
    millisecondHint?: boolean;
  } = {},
): Response {
  state.counters.throttled += 1;
  const headers: Record<string, string> = { "Retry-After": retryAfter };
  if (millisecondHint) headers["x-ms-retry-after-ms"] = String(Math.max(0, Math.ceil(waitMs)));
  const limit = state.throttle;
  const message = limit
    ? `Number of requests exceeded the limit of ${limit.limit} over time window of ${
      limit.windowMs / 1000
    } seconds.`
    : "Number of requests exceeded the limit over the time window.";
  return dataverseError(429, DATAVERSE_CODES.throttled, message, headers);
}

export function rateLimitHeaders(
  state: SandboxState,
  now: () => number,
): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const startedMs = now();
    await next();
    const endedMs = now();
    recordExecution(state, endedMs, endedMs - startedMs);
    const left = throttleRemaining(state, endedMs);
    if (!left) return;
    // A request answered before admission (an injected fault) shows the count as it is now.
    const requests = c.get("admittedRemaining") ?? left.requests;
    c.res.headers.set(BURST_REMAINING_HEADER, String(requests));
    c.res.headers.set(TIME_REMAINING_HEADER, left.executionMs.toFixed(2));
  };
}
