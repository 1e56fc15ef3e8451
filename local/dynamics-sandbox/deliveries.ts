// What the inspector shows about each request to the webhook receiver: the headers (credentials
// redacted), the body, whether the signature verified, any fault served, and the answer given.
// Bounded: only the latest MAX_DELIVERIES are kept, so a mass-expiry run cannot grow it without end.
import { REDACTED } from "../../shared/dynamics/errors.ts";

export const MAX_DELIVERIES = 200;
const MAX_TEXT_CHARS = 8192;

export type SignatureCheck =
  | { checked: false }
  | { checked: true; verified: true; scheme: string }
  | { checked: true; verified: false; reason: string };

export interface DeliveryRecord {
  sequence: number;
  receivedAt: string;
  headers: Record<string, string>;
  body: string;
  signature: SignatureCheck;
  /** The injected fault that answered or shaped this request, if any. */
  fault: string | null;
  /** null while the request is still being answered (a `hang` fault). */
  answer: { status: number; body: string } | null;
}

export interface DeliveryLog {
  records: DeliveryRecord[];
  sequence: number;
}

export const emptyDeliveryLog = (): DeliveryLog => ({ records: [], sequence: 0 });

const clip = (text: string) =>
  text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text;

/** Starts a record for a request; the caller fills in the rest as it handles it. */
export function beginDelivery(
  log: DeliveryLog,
  headers: Headers,
  o: { nowMs: number; apiKeyHeader: string },
): DeliveryRecord {
  const apiKeyHeader = o.apiKeyHeader.toLowerCase();
  const shown: Record<string, string> = {};
  for (const [name, value] of headers) {
    // The scheme stays visible ("Bearer"), the credential does not.
    const scheme = /^(\S+)\s/.exec(value)?.[1];
    shown[name] = name === "authorization"
      ? (scheme ? `${scheme} ${REDACTED}` : REDACTED)
      : name === apiKeyHeader
      ? REDACTED
      : value;
  }
  log.sequence += 1;
  const record: DeliveryRecord = {
    sequence: log.sequence,
    receivedAt: new Date(o.nowMs).toISOString(),
    headers: shown,
    body: "",
    signature: { checked: false },
    fault: null,
    answer: null,
  };
  log.records.push(record);
  if (log.records.length > MAX_DELIVERIES) log.records.shift();
  return record;
}

// Statuses that never carry a body (Fetch's null body statuses).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Records the body as received and the answer given (read from a clone: the original is sent).
 * A bodyless answer is not touched: under @hono/node-server, reading `body` of the answer turns its
 * lightweight Response into a full one, a cost per delivery in a mass expiry's profile.
 */
export async function finishDelivery(
  record: DeliveryRecord,
  body: () => Promise<string>,
  response: Response,
): Promise<void> {
  try {
    record.body = clip(await body());
  } catch {
    record.body = "(body not readable: the connection was closed)";
  }
  record.answer = {
    status: response.status,
    body: NULL_BODY_STATUSES.has(response.status) || response.body === null
      ? ""
      : clip(await response.clone().text()),
  };
}
