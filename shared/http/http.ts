// JSON error envelope shared by every function: `{ "error": { "code", "message" } }`.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody } from "../contract/api.ts";

export function errorBody(
  code: string,
  message: string,
  details?: unknown,
): ErrorBody {
  return {
    error: details === undefined ? { code, message } : { code, message, details },
  };
}

export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: unknown,
): Response {
  return c.json(errorBody(code, message, details), status);
}

/**
 * A refusal raised anywhere in a function's pipeline (middleware or handler); the app's `onError`
 * answers it with the envelope above. A Hono `HTTPException`, so Hono's own middleware can raise it
 * (the request deadline), with the machine-readable `code` and optional `details` the envelope needs.
 */
export class HttpError extends HTTPException {
  override readonly name = "HttpError";
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(status, { message });
  }
}
