import { createFunctionApp } from "../../shared/function-app.ts";
import { jsonError } from "../../shared/http.ts";
import type { Runtime } from "../../shared/runtime.ts";

export function createApp(rt: Runtime) {
  const app = createFunctionApp("dynamics-webhook", rt.log);
  app.post("/", (c) => jsonError(c, 501, "not_implemented", "dynamics-webhook is not implemented yet"));
  return app;
}
