import { configured, type Need } from "../../shared/config.ts";
import { createFunctionApp } from "../../shared/http/function-app.ts";
import { jsonError } from "../../shared/http/http.ts";
import { parseInboundEvent } from "../../shared/contract/inbound.ts";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { createLogSampler } from "../../shared/http/log-sampler.ts";
import { isJsonContentType } from "../../shared/http/media-type.ts";
import { boundedBody, parsedBody } from "../../shared/http/request-body.ts";
import type { Runtime } from "../../shared/runtime.ts";
import { verifyWebhook } from "../../shared/contract/signer.ts";

// Inbound webhooks from HLF Dynamics (verify_jwt = false: the HMAC signature authenticates).
// Order matters: media type (JSON only, before reading anything), size limit, then the signature
// over the raw bytes, and only then parsing, so an unsigned request costs no parse and writes nothing.
// It needs no outbound credentials: corrective events it queues are sent by the sweep.
export const needs: readonly Need[] = ["database", "inbound"];

export function createApp(rt: Runtime, now: () => number = Date.now) {
  const app = createFunctionApp("dynamics-webhook", rt.log);
  const { inbound } = rt.config;
  // No secret, no function: without one it could only accept forgeries or refuse everything.
  const secrets = configured(inbound.secrets, "inbound");
  // Anyone can send bad signatures: log the first 20 per 10 s, then one summary with the count.
  const rejected = createLogSampler({
    line: (fields) => rt.log.warn("inbound rejected", fields),
    summary: (fields) => rt.log.warn("inbound rejections suppressed", fields),
    limit: 20,
    windowMs: 10_000,
    now,
  });
  app.post("/", async (c) => {
    const started = now();
    if (!isJsonContentType(c.req.header("content-type"))) {
      await c.req.raw.body?.cancel();
      return jsonError(c, 415, "unsupported_media_type", "the body must be application/json");
    }
    const body = await boundedBody(c, inbound.maxBodyBytes);
    if (!body.ok) return body.response;
    const verified = await verifyWebhook(body.value, c.req.raw.headers, {
      secrets,
      nowSeconds: Math.floor(now() / 1000),
      toleranceSeconds: inbound.toleranceSeconds,
    });
    if (!verified.ok) {
      rejected(verified.reason);
      return jsonError(c, 401, verified.reason, "webhook signature verification failed");
    }
    const parsed = parsedBody(c, body.value, parseInboundEvent);
    if (!parsed.ok) return parsed.response;
    const event = parsed.value;
    const result = await receiveInbound(rt.sql, event, verified.scheme);
    // An accepted delivery is on record in the ledger, and Dynamics confirms every outbound event:
    // a line each would be one per delivery of a mass expiry, past Supabase's log limit. Debug only;
    // a duplicate (Dynamics retrying) stays visible.
    (result.status === "accepted" ? rt.log.debug : rt.log.info)("inbound delivery", {
      eventId: event.eventId,
      eventType: event.eventType,
      mentorId: event.mentorId,
      status: result.status,
      durationMs: now() - started,
    });
    return c.json({ status: result.status, eventId: event.eventId }, 200);
  });
  return app;
}
