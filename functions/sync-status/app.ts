import { createFunctionApp, requireRole } from "../../shared/function-app.ts";
import { jsonError } from "../../shared/http.ts";
import type { Runtime } from "../../shared/runtime.ts";

export function createApp(rt: Runtime) {
  const app = createFunctionApp("sync-status", rt.log);
  app.use("*", requireRole(rt.config.supabase.jwtSecret, ["authenticated", "service_role"]));
  app.on(["GET", "POST"], "/", (c) => jsonError(c, 501, "not_implemented", "sync-status is not implemented yet"));
  return app;
}
