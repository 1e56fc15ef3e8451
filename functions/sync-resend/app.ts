import {
  type SyncRecoverResult,
  SyncResendRequest,
  type SyncResult,
} from "../../shared/contract/api.ts";
import { callerSql } from "../../shared/http/caller-context.ts";
import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import { jsonOf, rawBody } from "../../shared/http/request-body.ts";
import { recoverDeadLetters } from "../../shared/outbox/resend-queries.ts";
import { requestResend } from "../../shared/resend-request.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { getEvent } from "../../shared/outbox/sync-queries.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses (outbound: it dispatches the resent event at once). */
export const needs: readonly Need[] = ["database", "callers", "outbound"];

// Coordinators act, not only look: `{mentorId}` resends the mentor's current state (under the
// caller's RLS: a mentor they do not coordinate is 404; once a minute per mentor, 429 beyond; who
// asked is audited), and the service role's `{failedSince}` recovers dead letters since a time.
// Both answer 202: the event is accepted and dispatched; its state says how far it got.
export function createApp(rt: Runtime) {
  // It sends what it accepts at once, so its deadline has a send's budget in it: a slow Dynamics
  // must not turn a committed resend into a 503 whose retry is then refused as too soon (429).
  const app = createFunctionApp(
    "sync-resend",
    rt.log,
    requestDeadlineMs(rt.config, rt.config.dynamics.budgetMs),
  );
  app.use("*", requireRole(rt.callers, ["authenticated", "service_role"]));
  app.post("/", rawBody(4096), jsonOf(SyncResendRequest), async (c) => {
    const body = c.get("input");
    const caller = c.get("caller");

    if ("failedSince" in body) {
      if (caller.role !== "service_role") {
        throw new HttpError(
          403,
          "forbidden",
          "recovering dead letters requires the service role",
        );
      }
      const recovered = await recoverDeadLetters(
        rt.sql,
        new Date(body.failedSince),
      );
      const counts = await rt.sync.dispatchDue();
      const result: SyncRecoverResult = {
        recovered,
        delivered: counts.delivered,
        retrying: counts.retrying,
        failed: counts.failed,
        held: counts.held,
      };
      rt.log.info("dead letters recovered", {
        ...result,
        failedSince: body.failedSince,
      });
      return c.json(result, 202);
    }

    const { mentorId } = body;
    const decision = await requestResend(callerSql(rt.sql, caller), mentorId);
    switch (decision.kind) {
      case "not_found":
        throw new HttpError(404, "mentor_not_found", `no mentor ${mentorId}`);
      case "rate_limited":
        throw new HttpError(
          429,
          "rate_limited",
          `this mentor was resent less than a minute ago; try again in ${decision.retryAfterSeconds} s`,
          undefined,
          { "Retry-After": String(decision.retryAfterSeconds) },
        );
      case "accepted": {
        await rt.sync.dispatchDue({ mentorId });
        const event = (await getEvent(rt.sql, decision.eventId))!;
        rt.log.info("mentor resent", {
          mentorId,
          eventId: event.eventId,
          state: event.state,
        });
        const result: SyncResult = {
          eventId: event.eventId,
          mentorId: event.mentorId,
          eventType: event.eventType,
          state: event.state,
          attempts: event.attempts,
        };
        return c.json(result, 202);
      }
    }
  });
  return app;
}
