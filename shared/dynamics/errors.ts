// Typed failures: callers branch on `kind`, never on message text. Messages are built to be safe to
// log and audit: `redact` strips bearer tokens and every configured secret before they are stored.

export type ErrorKind = "retryable" | "permanent" | "auth";

export interface DeliveryFailure {
  kind: ErrorKind;
  /** Stable machine code, e.g. "http_503", "timeout", "network", "token_rejected", "circuit_open". */
  code: string;
  /** Human-readable and already redacted. */
  message: string;
  status?: number;
  retryAfterMs?: number;
}

export function deliveryFailure(
  kind: ErrorKind,
  code: string,
  message: string,
  extra: { status?: number; retryAfterMs?: number } = {},
): DeliveryFailure {
  const error: DeliveryFailure = { kind, code, message };
  if (extra.status !== undefined) error.status = extra.status;
  if (extra.retryAfterMs !== undefined) error.retryAfterMs = extra.retryAfterMs;
  return error;
}

export const REDACTED = "[redacted]";

/** Response bodies in messages are cut to this many characters: enough to diagnose, not to leak. */
export const MAX_MESSAGE_CHARS = 300;

const BEARER = /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi;
// Three base64url segments starting with `eyJ` (`{"`): a JWT, whoever issued it.
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const TOKEN_FIELD =
  /("?(?:access_token|refresh_token|id_token|client_secret)"?\s*[:=]\s*"?)[^"&,\s}]+/gi;

/** Removes bearer tokens, JWTs, token fields and every given secret, then truncates. */
export function redact(
  text: string,
  secrets: Iterable<string> = [],
  maxChars: number = MAX_MESSAGE_CHARS,
): string {
  let out = text;
  // Longest first, so a secret containing another is removed whole.
  const sorted = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join(REDACTED);
  out = out.replace(BEARER, `Bearer ${REDACTED}`).replace(JWT, REDACTED)
    .replace(TOKEN_FIELD, `$1${REDACTED}`);
  return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
}
