// 405 instead of 404 when the path exists but not for the request's method, with the `Allow` header
// RFC 9110 requires. Hono has no such answer of its own: an unmatched method falls through to its
// not-found handler, which asks the app's router which methods the path does have.
import type { Context, Hono } from "hono";
import { jsonError } from "./http.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

// deno-lint-ignore no-explicit-any
type AnyHono = Hono<any, any, any>;

/** The methods some route (not middleware) of `app` answers at `path`; empty for an unknown path. */
export function allowedMethods(app: AnyHono, path: string): string[] {
  const routed = METHODS.filter((method) =>
    app.router.match(method, path)[0].some(([[, route]]) => route.method !== "ALL")
  );
  if (routed.length === 0) return [];
  // HEAD is served by GET routes; OPTIONS by the CORS middleware every function has.
  return [...routed, ...(routed.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
}

/** The 405 answer, or null when the path has no route at all (a plain 404 then). */
export function methodNotAllowed(app: AnyHono, c: Context): Response | null {
  const allow = allowedMethods(app, c.req.path);
  if (allow.length === 0) return null;
  c.header("Allow", allow.join(", "));
  return jsonError(
    c,
    405,
    "method_not_allowed",
    `${c.req.method} is not allowed here; allowed: ${allow.join(", ")}`,
  );
}
