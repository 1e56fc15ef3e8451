import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { fetchHealth, toPrometheus } from "../../shared/health.ts";
import type { Runtime } from "../../shared/runtime.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses (outbound: the process's Dynamics client reports its breaker state). */
export const needs: readonly Need[] = ["database", "callers", "outbound"];

// Health for operators and monitoring: JSON, or Prometheus text with `Accept: text/plain`.
export function createApp(rt: Runtime) {
  const app = createFunctionApp("sync-health", rt.log, requestDeadlineMs(rt.config));
  app.use("*", requireRole(rt.callers, ["service_role"]));
  app.get("/", async (c) => {
    const health = await fetchHealth(
      rt.sql,
      rt.config.dynamics.enabled,
      rt.dynamics.circuitState(),
    );
    if (c.req.header("accept")?.includes("text/plain")) {
      return c.body(toPrometheus(health), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
      });
    }
    return c.json(health, 200);
  });
  return app;
}
