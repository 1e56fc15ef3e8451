// The sandbox's control API under /__control: queue faults, set a throttle, change config, reset,
// expire tokens, edit a listing, and read listings, applied events and counters. Unauthenticated by design: the
// sandbox listens on 127.0.0.1 and exists for tests and humans.
import { Hono } from "hono";
import { z } from "zod";
import { jsonError } from "../../shared/http/http.ts";
import { parseJsonWith } from "../../shared/contract/validation.ts";
import { FaultList, targetOf } from "./faults.ts";
import { Uuid } from "../../shared/contract/validation.ts";
import {
  createThrottle,
  editListing,
  resetState,
  type SandboxConfig,
  type SandboxState,
} from "./state.ts";
import type { SandboxEnv } from "./webhook-receiver.ts";

export const CONTROL_PREFIX = "/__control";

export const ListingEdit = z.strictObject({ listing: z.enum(["listed", "unlisted"]) });

const ThrottleSpec = z.object({
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1).max(3_600_000),
  /**
   * Also send the wait in milliseconds (`x-ms-retry-after-ms`), which Dataverse does not: for a
   * window scaled down so far that whole seconds of Retry-After no longer express it.
   */
  millisecondHint: z.boolean().default(false),
});

const secret = z.string().min(1);
export const ConfigPatch = z.strictObject({
  tenant: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: secret,
  apiKey: secret.nullable(),
  apiKeyHeader: z.string().min(1),
  signingSecrets: z.array(secret).min(1),
  signatureToleranceSeconds: z.number().int().min(1),
  tokenLifetimeSeconds: z.number().int().min(1).max(86_400),
  callbackUrl: z.url().nullable(),
  callbackSecret: secret.nullable(),
}).partial();
export type ConfigPatch = z.input<typeof ConfigPatch>;

/** The configuration as shown over HTTP: which secrets are set, never their values. */
export function publicConfig(config: SandboxConfig) {
  return {
    tenant: config.tenant,
    clientId: config.clientId,
    apiKeyHeader: config.apiKeyHeader,
    apiKeyConfigured: config.apiKey !== null,
    signingSecretCount: config.signingSecrets.length,
    signatureToleranceSeconds: config.signatureToleranceSeconds,
    tokenLifetimeSeconds: config.tokenLifetimeSeconds,
    callbackUrl: config.callbackUrl,
    callbackSecretConfigured: config.callbackSecret !== null,
  };
}

export function controlRoutes(state: SandboxState, now: () => number): Hono<SandboxEnv> {
  const control = new Hono<SandboxEnv>();

  const queued = () => ({
    webhook: state.faults.webhook,
    token: state.faults.token,
    loss: state.faults.loss,
  });

  control.post("/faults", async (c) => {
    const parsed = parseJsonWith(FaultList, await c.req.text());
    if (!parsed.ok) return jsonError(c, 400, "invalid_fault", "invalid fault list", parsed.issues);
    for (const fault of parsed.value) state.faults[targetOf(fault)].push(fault);
    return c.json({ queued: queued() });
  });
  control.get("/faults", (c) => c.json({ queued: queued() }));

  control.post("/throttle", async (c) => {
    const parsed = parseJsonWith(ThrottleSpec, await c.req.text());
    if (!parsed.ok) return jsonError(c, 400, "invalid_throttle", "invalid throttle", parsed.issues);
    state.throttle = createThrottle(parsed.value);
    return c.json({ throttle: parsed.value });
  });
  control.delete("/throttle", (c) => {
    state.throttle = null;
    return c.json({ throttle: null });
  });

  control.get("/config", (c) => c.json(publicConfig(state.config)));
  control.post("/config", async (c) => {
    const parsed = parseJsonWith(ConfigPatch, await c.req.text());
    if (!parsed.ok) return jsonError(c, 400, "invalid_config", "invalid config", parsed.issues);
    Object.assign(state.config, parsed.value);
    return c.json(publicConfig(state.config));
  });

  control.post("/reset", (c) => {
    resetState(state);
    return c.json({ reset: true });
  });
  control.post("/tokens/expire", (c) => {
    const expiredAt = now();
    for (const token of state.tokens.keys()) state.tokens.set(token, expiredAt);
    return c.json({ expired: state.tokens.size });
  });

  control.get("/listings", (c) => c.json({ listings: [...state.listings.values()] }));
  control.get("/listings/:mentorId", (c) => {
    const listing = state.listings.get(c.req.param("mentorId"));
    return listing ? c.json(listing) : jsonError(c, 404, "not_found", "no listing for this mentor");
  });
  // A portal editor changes a listing behind our back.
  control.put("/listings/:mentorId", async (c) => {
    const mentorId = Uuid.safeParse(c.req.param("mentorId"));
    if (!mentorId.success) return jsonError(c, 400, "invalid_mentor_id", "mentorId must be a uuid");
    const parsed = parseJsonWith(ListingEdit, await c.req.text());
    if (!parsed.ok) return jsonError(c, 400, "invalid_listing", "invalid listing", parsed.issues);
    return c.json(editListing(state, mentorId.data, parsed.value.listing, now()));
  });
  control.get("/events", (c) => c.json({ events: state.events }));
  control.get("/deliveries", (c) => c.json({ deliveries: state.deliveries.records }));
  control.get("/counters", (c) => c.json(state.counters));

  return control;
}
