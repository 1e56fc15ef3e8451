// Decides what one HTTP exchange with Dynamics means: delivered, worth retrying, pointless to retry,
// or an authentication problem. Pure: no I/O, no secrets; callers redact the detail they pass in.
import { type DeliveryFailure, deliveryFailure, type ErrorKind } from "./errors.ts";

export type AttemptOutcome = "delivered" | ErrorKind;

/** Transient by definition (RFC 9110, RFC 8470, RFC 6585): the same request may succeed later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  408,
  425,
  429,
  500,
  502,
  503,
  504,
]);

export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 401) return "auth";
  if (RETRYABLE_STATUSES.has(status)) return "retryable";
  // 1xx/3xx reaching us, other 4xx, 501, 505...: repeating the same request will not help.
  return "permanent";
}

/** The error for a non-2xx response; `detail` is the (already redacted) response body summary. */
export function httpError(
  status: number,
  detail: string,
  retryAfterMs: number | null,
): DeliveryFailure {
  const kind = classifyStatus(status);
  if (kind === "delivered") {
    throw new RangeError(`status ${status} is not an error`);
  }
  const message = detail === "" ? `HTTP ${status}` : `HTTP ${status}: ${detail}`;
  return deliveryFailure(kind, `http_${status}`, message, {
    status,
    retryAfterMs: retryAfterMs ?? undefined,
  });
}

/**
 * Why a fetch rejected: our per-attempt timeout ("timeout"), the caller's signal ("aborted"), or the
 * network (refused, reset, DNS...: "network"). All are retryable: the request may not have arrived.
 * `reason` is what the caller knows about its own signals; without it the error's name decides.
 */
export function fetchError(
  error: unknown,
  reason: "timeout" | "aborted" | null = null,
): DeliveryFailure {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  if (reason === "timeout" || (reason === null && name === "TimeoutError")) {
    return deliveryFailure("retryable", "timeout", "attempt timed out");
  }
  if (reason === "aborted" || (reason === null && name === "AbortError")) {
    return deliveryFailure("retryable", "aborted", "request aborted by caller");
  }
  return deliveryFailure("retryable", "network", `network error: ${networkDetail(error)}`);
}

function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici wraps the socket error (ECONNRESET, ECONNREFUSED...) in `cause`.
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const parts = [error.message, cause?.code, cause?.message];
  return parts.filter((part) => typeof part === "string" && part !== "").join(": ");
}

/** A one-line summary of an error body: Dataverse's `{ error: { code, message } }` when present. */
export function summarizeBody(text: string): string {
  const trimmed = text.trim();
  try {
    const parsed = JSON.parse(trimmed) as {
      error?: { code?: unknown; message?: unknown };
    };
    const { code, message } = parsed.error ?? {};
    if (typeof message === "string") {
      return typeof code === "string" ? `${code} ${message}` : message;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return trimmed.replace(/\s+/g, " ");
}
