// The webhook's signature step: verifies the raw body (set by `webhookBody`) before anything parses
// it, so an unsigned request costs no parse and writes nothing.
import { createMiddleware } from "hono/factory";
import { HttpError } from "./http.ts";
import type { RawBodyEnv } from "./request-body.ts";
import type { VerifyFailure, WebhookVerifier } from "../contract/signer.ts";

export type WebhookEnv = { Variables: { scheme: "standard-webhooks" | "hlf" } };

/** Sets `scheme` to the signature scheme that verified; 401 (reported to `rejected`) otherwise. */
export const verified = (
  verify: WebhookVerifier,
  rejected: (reason: VerifyFailure) => void,
) =>
  createMiddleware<RawBodyEnv & WebhookEnv>(async (c, next) => {
    const result = await verify(c.get("rawBody"), c.req.raw.headers);
    if (!result.ok) {
      rejected(result.reason);
      throw new HttpError(
        401,
        result.reason,
        "webhook signature verification failed",
      );
    }
    c.set("scheme", result.scheme);
    await next();
  });
