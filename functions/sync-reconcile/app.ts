import { ReconcileRequest } from "../../shared/contract/api.ts";
import { checkAlerts } from "../../shared/alerts.ts";
import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import { reconcileListings } from "../../shared/reconcile.ts";
import { jsonOf, rawBody } from "../../shared/http/request-body.ts";
import { reconcileSettings, type Runtime } from "../../shared/runtime.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses; nothing else has to be configured for it. */
export const needs: readonly Need[] = ["database", "callers", "outbound"];

// Reconciliation, hourly (pg_cron / the local timer) or on demand: reads the portal's listings
// and enqueues a corrective event for every mentor that differs. Answers with the run so far; a
// run that needs more than one invocation says `"status": "running"` and the next call resumes it.
export function createApp(rt: Runtime) {
  const app = createFunctionApp(
    "sync-reconcile",
    rt.log,
    requestDeadlineMs(rt.config, rt.config.reconcile.budgetMs),
  );
  app.use("*", requireRole(rt.callers, ["service_role"]));
  app.post("/", rawBody(4096), jsonOf(ReconcileRequest), async (c) => {
    const outcome = await reconcileListings({
      sql: rt.sql,
      client: rt.dynamics,
      log: rt.log,
      ...reconcileSettings(rt.config),
    });
    if (outcome.kind === "busy") {
      throw new HttpError(
        409,
        "reconcile_busy",
        "another invocation is working on this run",
      );
    }
    const { run } = outcome;
    rt.log.info("reconciliation", {
      runId: run.runId,
      status: run.status,
      checked: run.checked,
      drift: run.drift,
      enqueued: run.enqueued,
      unknown: run.unknown,
      requests: run.requests,
    });
    // An unfinished run continues in a fresh invocation (its own CPU and wall-clock budget) where
    // pg_net can call us; elsewhere the caller calls again (the local scheduler does).
    if (run.status === "running") {
      await rt
        .sql`select public.invoke_sync_function('sync-reconcile', '{}'::jsonb)`;
    }
    // Posts the drift alert a finished run may have raised.
    await checkAlerts({ sql: rt.sql, log: rt.log, alerts: rt.config.alerts });
    return c.json(run, run.status === "failed" ? 502 : 200);
  });
  return app;
}
