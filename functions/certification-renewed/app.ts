import { createFunctionApp, requireRole } from "../../shared/function-app.ts";
import { jsonError } from "../../shared/http.ts";
import type { Runtime } from "../../shared/runtime.ts";

export function createApp(rt: Runtime) {
  const app = createFunctionApp("certification-renewed", rt.log);
  app.use("*", requireRole(rt.config.supabase.jwtSecret, ["service_role"]));
  app.post("/", (c) => jsonError(c, 501, "not_implemented", "certification-renewed is not implemented yet"));
  return app;
}
