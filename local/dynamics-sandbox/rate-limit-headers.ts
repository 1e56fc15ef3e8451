// Dataverse's service protection counts on every answer of a throttled endpoint (the webhook
// receiver and the listings collection), while a throttle is set: the requests the sliding window
// still accepts, and the execution time it still allows, in milliseconds with two decimals (Dataverse
// documents the latter only as "the remaining combined duration"; see state.ts for the model).
import type { MiddlewareHandler } from "hono";
import {
  BURST_REMAINING_HEADER,
  TIME_REMAINING_HEADER,
} from "../../shared/dynamics/rate-limit-headers.ts";
import { recordExecution, type SandboxState, throttleRemaining } from "./state.ts";
import type { SandboxEnv } from "./webhook-receiver.ts";

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
    c.res.headers.set(BURST_REMAINING_HEADER, String(left.requests));
    c.res.headers.set(TIME_REMAINING_HEADER, left.executionMs.toFixed(2));
  };
}
