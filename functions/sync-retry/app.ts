import { SyncRetryRequest, type SyncRetryResult } from "../../shared/contract/api.ts";
import { checkAlerts } from "../../shared/alerts.ts";
import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { jsonOf, rawBody } from "../../shared/http/request-body.ts";
import { memoryInUse } from "../../shared/memory.ts";
import type { Runtime } from "../../shared/runtime.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses; nothing else has to be configured for it. */
export const needs: readonly Need[] = ["database", "callers", "outbound"];

// The sweep: re-queues dead letters on request, releases held events once delivery is resumed,
// dispatches due events in batches within the function's time budget, then checks alerts.
export function createApp(rt: Runtime) {
  const app = createFunctionApp(
    "sync-retry",
    rt.log,
    requestDeadlineMs(rt.config, rt.config.dynamics.budgetMs),
  );
  app.use("*", requireRole(rt.callers, ["service_role"]));
  app.post("/", rawBody(4096), jsonOf(SyncRetryRequest), async (c) => {
    const body = c.get("input");
    const started = Date.now();
    const requeued = body.requeue ? await rt.sync.requeueFailed(body.mentorId) : 0;
    const counts = await rt.sync.dispatchDue();
    const result: SyncRetryResult = {
      ...counts,
      requeued,
      durationMs: Date.now() - started,
    };
    rt.log.info("sync sweep", { ...result, ...memoryInUse() });
    // After dispatch, so a slow alert endpoint never delays a delivery.
    await checkAlerts({ sql: rt.sql, log: rt.log, alerts: rt.config.alerts });
    return c.json(result, 200);
  });
  return app;
}
