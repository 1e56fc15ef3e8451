import type { Context } from "hono";
import { SyncStatusQuery } from "../../shared/contract/api.ts";
import {
  createFunctionApp,
  type FunctionEnv,
  requireRole,
} from "../../shared/http/function-app.ts";
import { jsonError } from "../../shared/http/http.ts";
import { badRequest, jsonBody } from "../../shared/http/request-body.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { asCaller } from "../../shared/http/caller-context.ts";
import { decodeCursor, fetchSyncStatus, listSyncStatus } from "../../shared/status-queries.ts";
import { parseWith } from "../../shared/contract/validation.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses; nothing else has to be configured for it. */
export const needs: readonly Need[] = ["database", "callers"];

// getSyncStatus for the Flutter app and the coordinator dashboard, under row-level security for the
// caller's JWT: a mentor the caller may not see answers 404, exactly like one that does not exist.
export function createApp(rt: Runtime) {
  const app = createFunctionApp("sync-status", rt.log);
  app.use("*", requireRole(rt.callers, ["authenticated", "service_role"]));

  const answer = async (c: Context<FunctionEnv>, query: SyncStatusQuery) => {
    const caller = c.get("caller");
    if ("list" in query) {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (after === null) return badRequest(c, [{ path: "cursor", message: "invalid cursor" }]);
      const page = await asCaller(
        rt.sql,
        caller,
        (tx) =>
          listSyncStatus(tx, {
            state: query.state,
            chapterId: query.chapterId,
            limit: query.limit,
            after,
            onlyViewable: caller.role === "authenticated",
          }),
      );
      return c.json(page, 200);
    }
    const status = await asCaller(rt.sql, caller, (tx) => fetchSyncStatus(tx, query.mentorId));
    return status
      ? c.json(status, 200)
      : jsonError(c, 404, "mentor_not_found", `no sync status for mentor ${query.mentorId}`);
  };

  app.get("/", (c) => {
    const parsed = parseWith(SyncStatusQuery, c.req.query());
    return parsed.ok ? answer(c, parsed.value) : badRequest(c, parsed.issues);
  });
  app.post("/", async (c) => {
    const body = await jsonBody(c, SyncStatusQuery, 4096);
    return body.ok ? answer(c, body.value) : body.response;
  });
  return app;
}
