// The request pipeline's body steps, as Hono middlewares that set typed context variables: the raw
// body within a size limit (never buffered past it), the webhook's media type, and the JSON input
// parsed against a schema, so every function answers bad input the same way. Refusals are thrown
// as `HttpError`s and answered by the app's `onError`.
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { HttpError } from "./http.ts";
import { readAtMost } from "../read-at-most.ts";
import { isJsonContentType } from "./media-type.ts";
import { type Issue, parseJsonWith, type ParseResult, parseWith } from "../contract/validation.ts";

export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too_large" | "unreadable" };

export async function readBody(
  req: Request,
  maxBytes: number,
): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await req.body?.cancel();
    return { ok: false, reason: "too_large" };
  }
  const read = await readAtMost(req.body, maxBytes);
  // Unreadable: the client went away or the gateway cut a stalled upload off.
  if (read.failed) return { ok: false, reason: "unreadable" };
  return read.over ? { ok: false, reason: "too_large" } : { ok: true, bytes: read.bytes };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes strict UTF-8; null when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The 400 for input that failed validation, with validation.ts's issue list as `details`. */
export const invalidRequest = (issues: Issue[]) =>
  new HttpError(
    400,
    "invalid_request",
    issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; "),
    issues,
  );

export type RawBodyEnv = { Variables: { rawBody: Uint8Array } };
export type InputEnv<T> = { Variables: { input: T } };

/** Sets `rawBody` to the body within `maxBytes`; 413 beyond it, 400 when it cannot be read. */
export const rawBody = (maxBytes: number) =>
  createMiddleware<RawBodyEnv>(async (c, next) => {
    const body = await readBody(c.req.raw, maxBytes);
    if (!body.ok) {
      throw body.reason === "too_large"
        ? new HttpError(413, "payload_too_large", `body over ${maxBytes} bytes`)
        : new HttpError(
          400,
          "unreadable_body",
          "the request body could not be read",
        );
    }
    c.set("rawBody", body.bytes);
    await next();
  });

/** `rawBody` for a webhook: 415 before reading anything unless the body is declared JSON. */
export const webhookBody = (maxBytes: number) => {
  const read = rawBody(maxBytes);
  return createMiddleware<RawBodyEnv>(async (c, next) => {
    if (!isJsonContentType(c.req.header("content-type"))) {
      await c.req.raw.body?.cancel();
      throw new HttpError(
        415,
        "unsupported_media_type",
        "the body must be application/json",
      );
    }
    return await read(c, next);
  });
};

/**
 * Sets `input` to `rawBody` as strict UTF-8 parsed by `parse`, or by `schema` as JSON (an empty body
 * counting as `{}`); 400 with the issues otherwise.
 */
export function jsonOf<T>(
  parser: z.ZodType<T> | ((text: string) => ParseResult<T>),
) {
  const parse = typeof parser === "function"
    ? parser
    : (text: string) => parseJsonWith(parser, text.trim() === "" ? "{}" : text);
  return createMiddleware<RawBodyEnv & InputEnv<T>>(async (c, next) => {
    const text = decodeUtf8(c.get("rawBody"));
    if (text === null) {
      throw invalidRequest([{ path: "", message: "body is not valid UTF-8" }]);
    }
    const parsed = parse(text);
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    c.set("input", parsed.value);
    await next();
  });
}

/** Sets `input` to the query string parsed by `schema`; 400 with the issues otherwise. */
export function queryOf<T>(schema: z.ZodType<T>) {
  return createMiddleware<InputEnv<T>>(async (c, next) => {
    const parsed = parseWith(schema, c.req.query());
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    c.set("input", parsed.value);
    await next();
  });
}
