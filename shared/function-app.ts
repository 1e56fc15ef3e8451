// The frame every edge function shares: mounted at `/NAME` as Supabase routes it, CORS for the
// Flutter web app and the dashboard, JSON errors for unknown routes (405 with `Allow` for a known
// path with the wrong method) and uncaught failures, and the caller's verified role.
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { MiddlewareHandler } from "hono";
import { jsonError } from "./http.ts";
import { methodNotAllowed } from "./http-methods.ts";
import { bearerToken, type Caller, type CallerRole, verifyCaller } from "./jwt.ts";
import type { Logger } from "./logger.ts";

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
    log.error("unhandled error", { function: name, error: err.name });
    return jsonError(c, 500, "internal_error", "internal error");
  });
  return app;
}

/** Verifies the JWT and admits only the given roles: 401 without a valid token, 403 for other roles. */
export function requireRole(
  jwtSecret: string,
  roles: readonly CallerRole[],
): MiddlewareHandler<FunctionEnv> {
  return async (c, next) => {
    const result = await verifyCaller(
      bearerToken(c.req.raw.headers),
      jwtSecret,
    );
    if (!result.ok) {
      return jsonError(c, 401, result.reason, "a valid JWT is required");
    }
    if (!roles.includes(result.caller.role)) {
      return jsonError(
        c,
        403,
        "forbidden",
        `this endpoint requires the ${roles.join(" or ")} role`,
      );
    }
    c.set("caller", result.caller);
    await next();
  };
}
