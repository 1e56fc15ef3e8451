// The frame every edge function shares: mounted at `/NAME` as Supabase routes it, CORS for the
// Flutter web app and the dashboard, a deadline per request, JSON errors for unknown routes (405 with
// `Allow` for a known path with the wrong method) and uncaught failures, every `HttpError` a step of
// the pipeline throws answered with the error envelope, and the caller's verified role.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { timeout } from "hono/timeout";
import type { MiddlewareHandler } from "hono";
import { HttpError, jsonError } from "./http.ts";
import { methodNotAllowed } from "./http-methods.ts";
import type { Caller, CallerRole, CallerVerifier } from "./jwt.ts";
import type { Logger } from "../logger.ts";
import type { Config } from "../config.ts";

export type FunctionEnv = { Variables: { caller: Caller } };

/** Browsers on any origin may call: every function checks its callers' credentials itself. */
const ANY_ORIGIN = "*";

/** How long a client waiting on a missed deadline is asked to wait before trying again. */
const DEADLINE_RETRY_AFTER_SECONDS = 5;

/**
 * A function's request deadline: its own work budget (a send's, a reconciliation run's; none for a
 * read or an inbound webhook) plus REQUEST_DEADLINE_MS for everything around it.
 */
export const requestDeadlineMs = (config: Config, workBudgetMs = 0) =>
  workBudgetMs + config.requestDeadlineMs;

/**
 * `deadlineMs` bounds every request: a query on a connection whose backend died can stay pending
 * for good (postgres.js 3.4.9, see RELIABILITY.md), and its caller should hear 503 and retry rather
 * than wait for Supabase's wall-clock limit. The work it abandons finishes or fails on its own;
 * what it wrote is idempotent for the retry (ledger by event id, leases, rate-limited resends).
 */
export function createFunctionApp(
  name: string,
  log: Logger,
  deadlineMs: number,
): Hono<FunctionEnv> {
  const app = new Hono<FunctionEnv>().basePath(`/${name}`);
  const preflight = cors({
    origin: ANY_ORIGIN,
    allowHeaders: [
      "authorization",
      "x-client-info",
      "apikey",
      "content-type",
    ],
    allowMethods: ["GET", "POST", "OPTIONS"],
    maxAge: 600,
  });
  // Hono's `cors` answers the preflight. On every other request it sets its header before the
  // handler runs, which makes Hono build a placeholder response and copy its headers into the real
  // one: 6 us of the webhook's ~100 us per request (bench scenario 4's pipeline in-process, Deno).
  // The same header set on the answer, once there is one, costs 0.3 us; an error's answer from
  // `onError` gets it too, as that is the answer `next()` leaves.
  app.use("*", async (c, next) => {
    if (c.req.method === "OPTIONS") return await preflight(c, next);
    await next();
    c.res.headers.set("Access-Control-Allow-Origin", ANY_ORIGIN);
  });
  // After CORS, so the deadline's answer carries its headers too (hono's timeout middleware: it
  // races the rest of the pipeline and throws the error below, which onError answers).
  app.use(
    "*",
    timeout(deadlineMs, () => {
      log.warn("request deadline exceeded", { function: name, deadlineMs });
      return new HttpError(
        503,
        "deadline_exceeded",
        `no answer within ${deadlineMs} ms; retry`,
        undefined,
        { "Retry-After": String(DEADLINE_RETRY_AFTER_SECONDS) },
      );
    }),
  );
  app.notFound((c) =>
    methodNotAllowed(app, c) ??
      jsonError(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}`)
  );
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) {
        c.header(name, value);
      }
      return jsonError(c, err.status, err.code, err.message, err.details);
    }
    log.error("unhandled error", { function: name, error: err.name, ...errorCode(err) });
    return jsonError(c, 500, "internal_error", "internal error");
  });
  return app;
}

/**
 * The error's machine-readable code, when it has one (a PostgresError's SQLSTATE such as `40P01`,
 * a socket's `ECONNRESET`): what an operator needs to act on a 500. Only an identifier-shaped code
 * is logged; the message is not, as it can quote the data the statement carried.
 */
function errorCode(err: Error): { code?: string } {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code) ? { code } : {};
}

/**
 * Verifies the caller and admits only the given roles: 401 without valid credentials, 403 for other
 * roles, 503 when the project's keys cannot be fetched.
 */
export function requireRole(
  callers: CallerVerifier,
  roles: readonly CallerRole[],
): MiddlewareHandler<FunctionEnv> {
  return async (c, next) => {
    const result = await callers.verify(c.req.raw.headers);
    if (!result.ok) {
      throw result.reason === "auth_unavailable"
        ? new HttpError(
          503,
          result.reason,
          "the project's signing keys are unavailable; retry",
        )
        : new HttpError(
          401,
          result.reason,
          "a valid JWT or API key is required",
        );
    }
    if (!roles.includes(result.caller.role)) {
      throw new HttpError(
        403,
        "forbidden",
        `this endpoint requires the ${roles.join(" or ")} role`,
      );
    }
    c.set("caller", result.caller);
    await next();
  };
}
