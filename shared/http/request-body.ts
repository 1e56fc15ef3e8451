// Reads a request body with a size limit (the whole body is never buffered past the limit) and
// parses JSON bodies against a schema, so every function answers bad input the same way.
import type { Context } from "hono";
import type { z } from "zod";
import { jsonError } from "./http.ts";
import { type Issue, parseJsonWith, type ParseResult } from "../contract/validation.ts";

export type BodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "too_large" | "unreadable" };

export async function readBody(req: Request, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await req.body?.cancel();
    return { ok: false, reason: "too_large" };
  }
  if (!req.body) return { ok: true, bytes: new Uint8Array() };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away or the gateway cut a stalled upload off.
      return { ok: false, reason: "unreadable" };
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { ok: false, reason: "too_large" };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
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

export const badRequest = (c: Context, issues: Issue[]) =>
  jsonError(
    c,
    400,
    "invalid_request",
    issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; "),
    issues,
  );

type Answer<T> = { ok: true; value: T } | { ok: false; response: Response };

/** The raw body within `maxBytes`, or the 413 response to send instead. */
export async function boundedBody(c: Context, maxBytes: number): Promise<Answer<Uint8Array>> {
  const body = await readBody(c.req.raw, maxBytes);
  if (body.ok) return { ok: true, value: body.bytes };
  return {
    ok: false,
    response: body.reason === "too_large"
      ? jsonError(c, 413, "payload_too_large", `body over ${maxBytes} bytes`)
      : jsonError(c, 400, "unreadable_body", "the request body could not be read"),
  };
}

/** `bytes` as strict UTF-8 parsed by `parse`, or the 400 response to send instead. */
export function parsedBody<T>(
  c: Context,
  bytes: Uint8Array,
  parse: (text: string) => ParseResult<T>,
): Answer<T> {
  const text = decodeUtf8(bytes);
  if (text === null) {
    return {
      ok: false,
      response: badRequest(c, [{ path: "", message: "body is not valid UTF-8" }]),
    };
  }
  const parsed = parse(text);
  return parsed.ok ? parsed : { ok: false, response: badRequest(c, parsed.issues) };
}

/** A JSON body valid against `schema` (an empty body counts as `{}`), or the 400/413 response. */
export async function jsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
  maxBytes: number,
): Promise<Answer<T>> {
  const body = await boundedBody(c, maxBytes);
  if (!body.ok) return body;
  return parsedBody(
    c,
    body.value,
    (text) => parseJsonWith(schema, text.trim() === "" ? "{}" : text),
  );
}
