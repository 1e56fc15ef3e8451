// The sandbox as a Hono app: Entra's token endpoint, the Dataverse-like webhook receiver, the
// listings collection and the control API. No sockets here (server.ts serves it), so most of it is testable with app.request().
import { setMaxListeners } from "node:events";
import { Hono } from "hono";
import { DEFAULTS } from "../../shared/config.ts";
import { LOCAL_PROFILE } from "../env.ts";
import { jsonError } from "../../shared/http/http.ts";
import { type CallbackSender, createCallbackSender } from "./callbacks.ts";
import { CONTROL_PREFIX, controlRoutes } from "./control.ts";
import type { Post } from "./http-post.ts";
import { codeForStatus, dataverseError } from "./dataverse.ts";
import { createState, type SandboxConfig, type SandboxState } from "./state.ts";
import { INSPECTOR_HTML } from "./inspector.ts";
import { handleListings, LISTINGS_PATH } from "./listings-collection.ts";
import { handleTokenRequest, TOKEN_PATH } from "./token-endpoint.ts";
import { rateLimitHeaders } from "./service-protection.ts";
import { handleWebhook, type SandboxEnv, WEBHOOK_PATH } from "./webhook-receiver.ts";

export { CONTROL_PREFIX } from "./control.ts";
export { LISTINGS_PATH } from "./listings-collection.ts";
export { tokenPathFor } from "./token-endpoint.ts";
export { WEBHOOK_PATH } from "./webhook-receiver.ts";

export const DEFAULT_TENANT = "hlf-sandbox";
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

export interface SandboxOptions {
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  apiKey?: string | null;
  apiKeyHeader?: string;
  signingSecrets?: string[];
  signatureToleranceSeconds?: number;
  tokenLifetimeSeconds?: number;
  callbackUrl?: string | null;
  callbackSecret?: string | null;
  /** One line per request (method, path, status); never headers or bodies. */
  log?: (line: string) => void;
}

export interface SandboxAppDeps {
  now?: () => number;
  /** Sends the callbacks to our dynamics-webhook function. */
  post?: Post;
}

export interface SandboxApp {
  app: Hono<SandboxEnv>;
  state: SandboxState;
  callbacks: CallbackSender;
  /** Releases held (`hang`) requests and cancels pending callbacks. */
  close(): void;
}

// Defaults are the local stack's own (the local profile and the tunables' defaults in
// shared/config.ts), so the standalone sandbox needs no extra wiring.
export function sandboxConfig(options: SandboxOptions = {}): SandboxConfig {
  return {
    tenant: options.tenant ?? DEFAULT_TENANT,
    clientId: options.clientId ?? LOCAL_PROFILE.DYNAMICS_CLIENT_ID,
    clientSecret: options.clientSecret ?? LOCAL_PROFILE.DYNAMICS_CLIENT_SECRET,
    apiKey: options.apiKey ?? null,
    apiKeyHeader: options.apiKeyHeader ?? DEFAULTS.DYNAMICS_API_KEY_HEADER,
    signingSecrets: options.signingSecrets ?? [LOCAL_PROFILE.DYNAMICS_SIGNING_SECRET],
    signatureToleranceSeconds: options.signatureToleranceSeconds ??
      DEFAULTS.WEBHOOK_TOLERANCE_SECONDS,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    callbackUrl: options.callbackUrl ?? null,
    callbackSecret: options.callbackSecret ?? null,
  };
}

export function createSandboxApp(
  options: SandboxOptions = {},
  deps: SandboxAppDeps = {},
): SandboxApp {
  const now = deps.now ?? Date.now;
  const state = createState(sandboxConfig(options));
  const shutdown = new AbortController();
  // Every callback in flight and every held request listens for the shutdown, hundreds at once in
  // a mass expiry, each removed when it ends: Node's leak warning at 11 would only be noise.
  setMaxListeners(0, shutdown.signal);
  const callbacks = createCallbackSender({
    state,
    post: deps.post,
    now,
    shutdown: shutdown.signal,
  });
  const app = new Hono<SandboxEnv>();

  if (options.log) {
    const log = options.log;
    app.use(async (c, next) => {
      await next();
      log(`${c.req.method} ${c.req.path} ${c.res.status}`);
    });
  }
  app.post(TOKEN_PATH, (c) => handleTokenRequest(c, state, now()));
  app.use(WEBHOOK_PATH, rateLimitHeaders(state, now));
  app.use(LISTINGS_PATH, rateLimitHeaders(state, now));
  app.post(WEBHOOK_PATH, (c) =>
    handleWebhook(c, {
      state,
      now,
      shutdown: shutdown.signal,
      onApplied: (event) => callbacks.notify(event),
    }));
  app.get(LISTINGS_PATH, (c) => handleListings(c, state, now()));
  app.route(CONTROL_PREFIX, controlRoutes(state, now));
  app.get("/", (c) => c.html(INSPECTOR_HTML));
  // Anything else looks like Dataverse's answer to an unknown entity set.
  app.notFound((c) =>
    c.req.path.startsWith(CONTROL_PREFIX)
      ? jsonError(c, 404, "not_found", `no control route ${c.req.method} ${c.req.path}`)
      : dataverseError(
        404,
        codeForStatus(404),
        `Resource not found for the segment '${c.req.path}'.`,
      )
  );
  app.onError((error, c) => {
    options.log?.(`${c.req.method} ${c.req.path} failed: ${error.name}`);
    return dataverseError(500, codeForStatus(500), "An unexpected error occurred.");
  });

  return { app, state, callbacks, close: () => shutdown.abort() };
}
