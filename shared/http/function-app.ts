// The frame every edge function shares: mounted at `/NAME` as Supabase routes it, CORS for the
// Flutter web app and the dashboard, JSON errors for unknown routes (405 with `Allow` for a known
// path with the wrong method) and uncaught failures, every `HttpError` a step of the pipeline throws
// answered with the error envelope, and the caller's verified role.
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { MiddlewareHandler } from "hono";
import { HttpError, jsonError } from "./http.ts";
import { methodNotAllowed } from "./http-methods.ts";
import type { Caller, CallerRole, CallerVerifier } from "./jwt.ts";
import type { Logger } from "../logger.ts";

export type FunctionEnv = { Variables: { caller: Caller } };

export function createFunctionApp(
  name: string,
  log: Logger,
): Hono<FunctionEnv> {
  const app = new Hono<FunctionEnv>().basePath(`/${name}`);
  app.use(
    "*",
    cors({
      origin: "*",
      allowHeaders: [
        "authorization",
        "x-client-info",
        "apikey",
        "content-type",
      ],
      allowMethods: ["GET", "POST", "OPTIONS"],
      maxAge: 600,
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
    log.error("unhandled error", { function: name, error: err.name });
    return jsonError(c, 500, "internal_error", "internal error");
  });
  return app;
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
