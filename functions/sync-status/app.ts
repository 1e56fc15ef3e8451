import type { Caller } from "../../shared/http/jwt.ts";
import { SyncStatusQuery } from "../../shared/contract/api.ts";
import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import { invalidRequest, jsonOf, queryOf, rawBody } from "../../shared/http/request-body.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { callerSql } from "../../shared/http/caller-context.ts";
import { decodeCursor, fetchSyncStatus, listSyncStatus } from "../../shared/status-queries.ts";
import type { Need } from "../../shared/config.ts";

/** What this function uses; nothing else has to be configured for it. */
export const needs: readonly Need[] = ["database", "callers"];

// getSyncStatus for the Flutter app and the coordinator dashboard, under row-level security for the
// caller's JWT: a mentor the caller may not see answers 404, exactly like one that does not exist.
export function createApp(rt: Runtime) {
  const app = createFunctionApp("sync-status", rt.log, requestDeadlineMs(rt.config));
  app.use("*", requireRole(rt.callers, ["authenticated", "service_role"]));

  const answer = async (caller: Caller, query: SyncStatusQuery) => {
    // One round trip per request: the caller's context and the query in one message.
    const sql = callerSql(rt.sql, caller);
    if ("list" in query) {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (after === null) {
        throw invalidRequest([{ path: "cursor", message: "invalid cursor" }]);
      }
      return await listSyncStatus(sql, {
        state: query.state,
        chapterId: query.chapterId,
        limit: query.limit,
        after,
        onlyViewable: caller.role === "authenticated",
      });
    }
    const status = await fetchSyncStatus(sql, query.mentorId);
    if (!status) {
      throw new HttpError(
        404,
        "mentor_not_found",
        `no sync status for mentor ${query.mentorId}`,
      );
    }
    return status;
  };

  app.get(
    "/",
    queryOf(SyncStatusQuery),
    async (c) => c.json(await answer(c.get("caller"), c.get("input")), 200),
  );
  app.post(
    "/",
    rawBody(4096),
    jsonOf(SyncStatusQuery),
    async (c) => c.json(await answer(c.get("caller"), c.get("input")), 200),
  );
  return app;
}
