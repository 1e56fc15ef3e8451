import { createFunctionApp, requireRole } from "../../shared/function-app.ts";
import { jsonError } from "../../shared/http.ts";
import type { Runtime } from "../../shared/runtime.ts";

export function createApp(rt: Runtime) {
  const app = createFunctionApp("sync-retry", rt.log);
  app.use("*", requireRole(rt.config.supabase.jwtSecret, ["service_role"]));
  app.post("/", (c) => jsonError(c, 501, "not_implemented", "sync-retry is not implemented yet"));
  return app;
}
