// `Retry-After` (RFC 9110 §10.2.3) is either delta-seconds or an HTTP-date. Dataverse sends whole
// seconds and nothing else; some Azure services in front of a receiver also send a millisecond hint
// (`retry-after-ms` / `x-ms-retry-after-ms`), preferred when present because whole seconds overshoot
// short throttling windows.

/** Milliseconds to wait, capped at `capMs`; null when the header is absent or unusable. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
  capMs: number = Number.POSITIVE_INFINITY,
): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === "") return null;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^-?\d+(\.\d+)?$/.test(text)) {
    // Negative or fractional seconds are not valid delta-seconds.
    return null;
  } else {
    const at = parseHttpDate(text);
    if (at === null) return null;
    // A date in the past means "now".
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, Math.max(0, capMs));
}

// The three HTTP-date forms recipients must accept. Date.parse alone is far too lenient
// (V8 reads "foo 2" as February 2001), so the shape is checked first.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** Epoch milliseconds of an HTTP-date, or null. */
export function parseHttpDate(text: string): number | null {
  let candidate: string;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) candidate = text;
  // asctime carries no zone; HTTP dates are always UTC.
  else if (ASCTIME_DATE.test(text)) candidate = `${text} GMT`;
  else return null;
  const at = Date.parse(candidate);
  return Number.isNaN(at) ? null : at;
}

const MS_HEADERS = ["retry-after-ms", "x-ms-retry-after-ms"];

/** Reads the millisecond hint first, then `Retry-After`; capped at `capMs`. */
export function retryAfterFromHeaders(
  headers: Headers,
  nowMs: number,
  capMs: number = Number.POSITIVE_INFINITY,
): number | null {
  for (const name of MS_HEADERS) {
    const raw = headers.get(name)?.trim();
    if (raw && /^\d+$/.test(raw)) {
      return Math.min(Number(raw), Math.max(0, capMs));
    }
  }
  return parseRetryAfter(headers.get("retry-after"), nowMs, capMs);
}
