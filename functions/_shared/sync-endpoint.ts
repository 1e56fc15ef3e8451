// certification-expired and certification-renewed are one endpoint with two event types: called by
// the database (pg_net, or a Supabase Database Webhook body) or by an operator with { mentorId },
// service role only. Answers with the event and the state its delivery reached.
import { mentorIdFromSyncRequest, SyncRequest } from "../../shared/contract/api.ts";
import {
  createFunctionApp,
  requestDeadlineMs,
  requireRole,
} from "../../shared/http/function-app.ts";
import { HttpError } from "../../shared/http/http.ts";
import type { EventType } from "../../shared/contract/vocabulary.ts";
import { jsonOf, rawBody } from "../../shared/http/request-body.ts";
import type { Runtime } from "../../shared/runtime.ts";

const MAX_REQUEST_BYTES = 64 * 1024;

export function createSyncEndpoint(
  name: string,
  eventType: EventType,
  rt: Runtime,
) {
  const app = createFunctionApp(
    name,
    rt.log,
    requestDeadlineMs(rt.config, rt.config.dynamics.budgetMs),
  );
  app.use("*", requireRole(rt.callers, ["service_role"]));
  app.post("/", rawBody(MAX_REQUEST_BYTES), jsonOf(SyncRequest), async (c) => {
    const mentorId = mentorIdFromSyncRequest(c.get("input"));
    const result = eventType === "certification.expired"
      ? await rt.sync.syncCertificationExpired(mentorId)
      : await rt.sync.syncCertificationRenewed(mentorId);
    switch (result.kind) {
      case "not_found":
        throw new HttpError(404, "mentor_not_found", `no mentor ${mentorId}`);
      case "conflict":
        throw new HttpError(409, "state_conflict", result.message);
      case "ok":
        return c.json(result.result, 200);
    }
  });
  return app;
}
