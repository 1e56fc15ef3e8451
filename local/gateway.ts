// The local stand-in for Supabase's functions gateway, run under Deno: serves
// /functions/v1/NAME[/...] to each function's Hono app (one route per function on one Hono app), checks the caller where supabase/config.toml
// says verify_jwt = true (preflight requests pass, as on Supabase), and forwards the request with the
// path the function sees on Supabase (`/NAME/...`). It also serves the local signing keys at
// /auth/v1/.well-known/jwks.json, where the functions fetch them as they fetch Supabase Auth's.
import { type Handler, Hono, type MiddlewareHandler } from "hono";
import { ALL_NEEDS, loadConfig, readEnvironment } from "../shared/config.ts";
import { errorBody } from "../shared/http/http.ts";
import { createRuntime } from "../shared/runtime.ts";
import { localSettings } from "./env.ts";
import { parseFunctionManifest } from "./function-manifest.ts";
import { createApp as certificationExpired } from "../functions/certification-expired/app.ts";
import { createApp as certificationRenewed } from "../functions/certification-renewed/app.ts";
import { createApp as dynamicsWebhook } from "../functions/dynamics-webhook/app.ts";
import { createApp as syncHealth } from "../functions/sync-health/app.ts";
import { createApp as syncReconcile } from "../functions/sync-reconcile/app.ts";
import { createApp as syncResend } from "../functions/sync-resend/app.ts";
import { createApp as syncRetry } from "../functions/sync-retry/app.ts";
import { createApp as syncStatus } from "../functions/sync-status/app.ts";

const env = readEnvironment();
const settings = localSettings(env);
// One runtime (one pool) for the five functions; the stack validated this config before starting us.
const runtime = createRuntime(loadConfig(env, ALL_NEEDS));

const factories = {
  "certification-expired": certificationExpired,
  "certification-renewed": certificationRenewed,
  "dynamics-webhook": dynamicsWebhook,
  "sync-health": syncHealth,
  "sync-reconcile": syncReconcile,
  "sync-resend": syncResend,
  "sync-retry": syncRetry,
  "sync-status": syncStatus,
} as const;

const manifest = parseFunctionManifest(
  await Deno.readTextFile(new URL("../supabase/config.toml", import.meta.url)),
);
const missing = manifest.filter((f) => !(f.name in factories)).map((f) => f.name);
if (missing.length > 0 || manifest.length !== Object.keys(factories).length) {
  throw new Error(`supabase/config.toml and the gateway disagree on the functions: ${missing}`);
}
const json = (status: number, code: string, message: string) =>
  Response.json(errorBody(code, message), {
    status,
    headers: { "access-control-allow-origin": "*" },
  });

// Methods the Fetch standard forbids in `new Request` (so they cannot be forwarded) and no function
// serves: answered here, instead of failing in the forwarding.
const UNFORWARDABLE = new Set(["CONNECT", "TRACE", "TRACK"]);
const FORWARDED = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const PREFIX = "/functions/v1";

/**
 * The body, cut off `ms` after the headers arrived (a stalled upload would
 * otherwise hold the connection and the function open indefinitely); `expired` says whether it was.
 */
function withBodyDeadline(
  req: Request,
  ms: number,
): { body: ReadableStream<Uint8Array> | null; expired: () => boolean } {
  if (!req.body) return { body: null, expired: () => false };
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      timer = setTimeout(() => {
        expired = true;
        controller.error(new DOMException("request body timed out", "TimeoutError"));
      }, ms);
    },
    flush: () => clearTimeout(timer),
  });
  return { body: req.body.pipeThrough(deadline), expired: () => expired };
}

/** The caller check Supabase's gateway makes for a function with verify_jwt = true. */
const jwtChecked: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "OPTIONS") return await next();
  const verified = await runtime.callers.verify(c.req.raw.headers);
  if (!verified.ok) {
    return verified.reason === "missing_token"
      ? json(401, "missing_authorization", "missing authorization header")
      : json(401, "invalid_jwt", "invalid JWT");
  }
  await next();
};

/** Hands the request to a function's app under the path it sees on Supabase (`/NAME/...`). */
const forwardTo = (fetch: (req: Request) => Response | Promise<Response>): Handler => async (c) => {
  const req = c.req.raw;
  const url = new URL(req.url);
  url.pathname = url.pathname.slice(PREFIX.length);
  const { body, expired } = withBodyDeadline(req, settings.gatewayBodyTimeoutMs);
  // Built from its parts, not `new Request(url, req)`: copying a request reads its `signal`, and
  // reading a served request's signal makes Deno.serve warn about its legacy abort on every start.
  // The functions never watch the signal (they finish what they started; leases cover a crash).
  const res = await fetch(new Request(url, { method: req.method, headers: req.headers, body }));
  if (!expired()) return res;
  await res.body?.cancel();
  return json(408, "request_timeout", "the request body did not arrive in time");
};

const gateway = new Hono();
gateway.use("*", async (c, next) => {
  if (!UNFORWARDABLE.has(c.req.method.toUpperCase())) return await next();
  const res = json(405, "method_not_allowed", `${c.req.method} is not served`);
  res.headers.set("allow", FORWARDED);
  return res;
});
if (settings.authJwks) {
  const jwks = settings.authJwks;
  gateway.get(
    "/auth/v1/.well-known/jwks.json",
    () => new Response(jwks, { headers: { "content-type": "application/json" } }),
  );
}
for (const f of manifest) {
  const app = factories[f.name as keyof typeof factories](runtime);
  // `/NAME/*` also matches `/NAME` itself.
  const path = `${PREFIX}/${f.name}/*`;
  if (f.verifyJwt) gateway.use(path, jwtChecked);
  gateway.all(path, forwardTo(app.fetch));
}
gateway.all(
  `${PREFIX}/:name{[A-Za-z0-9_-]+}/*`,
  () => json(404, "function_not_found", "requested function was not found"),
);
gateway.notFound(() => json(404, "not_found", "no route"));
// Deno's default prints the error with its stack (file paths) and answers 500 in plain text.
gateway.onError((error) => {
  logGatewayError(error);
  return json(500, "internal_error", "internal error");
});

function logGatewayError(error: unknown) {
  console.log(JSON.stringify({
    level: "error",
    msg: "gateway error",
    error: error instanceof Error ? error.name : "unknown",
  }));
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: settings.ports.gateway,
  onListen: ({ port }) => console.log(JSON.stringify({ event: "gateway_listening", port })),
  // Outside the app's own onError (a failure in the response's streaming): same answer.
  onError: (error) => {
    logGatewayError(error);
    return json(500, "internal_error", "internal error");
  },
}, gateway.fetch);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.shutdown();
  await runtime.close();
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, stop);

// Started by the local stack: exit when the parent goes away (its end of stdin closes), even if it
// was killed without a chance to stop us.
if (Deno.args.includes("--exit-with-parent")) {
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* the parent never writes */ }
    await stop();
  })();
}
