import { createMiddleware } from "hono/factory";
import { configured, type Need } from "../../shared/config.ts";
import { createFunctionApp, requestDeadlineMs } from "../../shared/http/function-app.ts";
import { parseInboundEvent } from "../../shared/contract/inbound.ts";
import {
  type InboundDelivery,
  type InboundResult,
  receiveInbound,
} from "../../shared/inbound-service.ts";
import { createGroupWriter } from "../../shared/group-writer.ts";
import { createLogSampler } from "../../shared/http/log-sampler.ts";
import { jsonOf, webhookBody } from "../../shared/http/request-body.ts";
import { verified } from "../../shared/http/verified-webhook.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { createWebhookVerifier } from "../../shared/contract/signer.ts";

// Inbound webhooks from HLF Dynamics (verify_jwt = false: the HMAC signature authenticates).
// Order matters, and the route line states it: media type (JSON only, before reading anything), size
// limit, then the signature over the raw bytes, and only then parsing, so an unsigned request costs
// no parse and writes nothing.
// It needs no outbound credentials: corrective events it queues are sent by the sweep.
export const needs: readonly Need[] = ["database", "inbound"];

// One group written at a time: whatever arrives meanwhile goes in the next (bench scenario 4,
// Postgres, 16 connections: 1 in flight gave 0.83-0.84 x the bare handler, 2 gave 0.70-0.75, one
// delivery per statement 0.50). Two in flight make smaller groups, so more statements and commits
// (Postgres CPU per request 0.13 -> 0.20 ms), and a replay in one group waits on the other's
// transaction (pg_stat_activity: Lock:transactionid 26-33 % of the backends' time). A group stuck on
// a query that never answers frees its place at the deadline.
const INBOUND_GROUPS_IN_FLIGHT = 1;
const INBOUND_GROUP_MAX = 100;
// What an outsider or a re-sending Dynamics can repeat at will is logged one line each up to this
// many per window, then counted in one summary: Supabase keeps about 100 log events per 10 s.
const LOG_SAMPLING = { limit: 20, windowMs: 10_000 };

export function createApp(rt: Runtime, now: () => number = Date.now) {
  const deadlineMs = requestDeadlineMs(rt.config);
  const app = createFunctionApp("dynamics-webhook", rt.log, deadlineMs);
  const { inbound } = rt.config;
  // No secret, no function: without one it could only accept forgeries or refuse everything.
  const secrets = configured(inbound.secrets, "inbound");
  // Anyone can send bad signatures: log the first 20 per 10 s, then one summary with the count.
  const rejected = createLogSampler({
    line: (fields) => rt.log.warn("inbound rejected", fields),
    summary: (fields) => rt.log.warn("inbound rejections suppressed", fields),
    ...LOG_SAMPLING,
    now,
  });
  // Dynamics re-sends whatever it thinks failed, a whole mass expiry's confirmations after an outage:
  // duplicates stay visible the same way. (A line each also cost 0.06 ms of the function's one
  // thread per duplicate: bench scenario 4 with half duplicates, 0.67 -> 0.86 x the bare handler.)
  const duplicate = createLogSampler({
    line: (fields) => rt.log.info("inbound delivery", fields),
    summary: (fields) => rt.log.info("inbound duplicates suppressed", fields),
    ...LOG_SAMPLING,
    reasonField: "status",
    now,
  });
  const verifier = createWebhookVerifier({
    secrets,
    toleranceSeconds: inbound.toleranceSeconds,
    now,
  });
  // Deliveries that arrive while others are being written go together in one statement.
  const inbox = createGroupWriter<InboundDelivery, InboundResult>(
    (group) => receiveInbound(rt.sql, group),
    {
      maxInFlight: INBOUND_GROUPS_IN_FLIGHT,
      maxItems: INBOUND_GROUP_MAX,
      timeoutMs: deadlineMs,
    },
  );
  const started = createMiddleware<{ Variables: { started: number } }>(
    async (c, next) => {
      c.set("started", now());
      await next();
    },
  );
  app.post(
    "/",
    started,
    webhookBody(inbound.maxBodyBytes),
    verified(verifier, (reason) => rejected(reason)),
    jsonOf(parseInboundEvent),
    async (c) => {
      const event = c.get("input");
      const result = await inbox.write({ event, scheme: c.get("scheme") });
      const fields = {
        eventId: event.eventId,
        eventType: event.eventType,
        mentorId: event.mentorId,
        durationMs: now() - c.get("started"),
      };
      // An accepted delivery is on record in the ledger, and Dynamics confirms every outbound event:
      // a line each would be one per delivery of a mass expiry, past Supabase's log limit. Debug only.
      if (result.status === "accepted") {
        rt.log.debug("inbound delivery", { status: result.status, ...fields });
      } else duplicate(result.status, fields);
      return c.json({ status: result.status, eventId: event.eventId }, 200);
    },
  );
  return app;
}
