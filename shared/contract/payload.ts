// Outbound webhook payload v1: the schema, how it is built from a mentor's state, and its canonical
// JSON form (the bytes that get signed).
import { z } from "zod";
import {
  IsoDateTime,
  type Issue,
  parseJsonWith,
  type ParseResult,
  parseWith,
  Uuid,
} from "./validation.ts";
import { CertificationStatus, EventType } from "./vocabulary.ts";

export const RENEWAL_SNAPSHOT_SIZE = 5;

// Titles name the generated Dart types (contracts/dart/).
export const ListingAction = z.enum(["remove", "reinstate"]).meta({ title: "ListingAction" });
export type ListingAction = z.infer<typeof ListingAction>;

/** The one listing action each event type implies; the schema rejects any other pairing. */
export const LISTING_ACTION: Readonly<Record<EventType, ListingAction>> = {
  "certification.expired": "remove",
  "certification.renewed": "reinstate",
};

export const RenewalEntryV1 = z.object({
  issuedAt: IsoDateTime,
  expiresAt: IsoDateTime,
  renewedBy: Uuid.nullable(),
  schemaVersion: z.int().positive(),
}).meta({ title: "RenewalEntry" });
export type RenewalEntryV1 = z.infer<typeof RenewalEntryV1>;

// JSON Schema cannot see a zod refinement, so the same pairing is published as if/then clauses.
const listingActionClauses = Object.entries(LISTING_ACTION).map((
  [eventType, action],
) => ({
  if: {
    properties: { eventType: { const: eventType } },
    required: ["eventType"],
  },
  then: { properties: { listingAction: { const: action } } },
}));

export const WebhookPayloadV1 = z
  .object({
    schemaVersion: z.literal(1),
    eventId: Uuid,
    eventType: EventType,
    occurredAt: IsoDateTime,
    mentorId: Uuid,
    certificationStatus: CertificationStatus,
    expiryDate: IsoDateTime,
    listingAction: ListingAction,
    renewalHistory: z.array(RenewalEntryV1).max(RENEWAL_SNAPSHOT_SIZE),
  })
  .superRefine((payload, ctx) => {
    const expected = LISTING_ACTION[payload.eventType];
    if (payload.listingAction !== expected) {
      ctx.addIssue({
        code: "custom",
        path: ["listingAction"],
        message: `must be "${expected}" for ${payload.eventType}`,
      });
    }
  })
  .meta({
    title: "HLF certification status webhook payload v1",
    allOf: listingActionClauses,
  });
export type WebhookPayloadV1 = z.infer<typeof WebhookPayloadV1>;

/**
 * A renewal record as stored in the database JSONB (snake_case). A type alias, not an interface,
 * so that it has the implicit index signature postgres.js's `sql.json` asks of a JSON object.
 */
export type RenewalRecord = {
  schema_version: number;
  issued_at: string;
  expires_at: string;
  renewed_by: string | null;
};

export interface BuildPayloadInput {
  eventId: string;
  eventType: EventType;
  occurredAt: Date;
  mentorId: string;
  certificationStatus: CertificationStatus;
  expiryDate: Date;
  renewalHistory: readonly RenewalRecord[];
}

/** Thrown by `buildPayload` when the source data cannot form a valid payload (e.g. a bad date). */
export class PayloadError extends Error {
  readonly kind = "permanent";
  constructor(readonly issues: readonly Issue[]) {
    super(
      `invalid webhook payload: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
    this.name = "PayloadError";
  }
}

// Unparseable dates are passed through unchanged so validation names the field that holds them.
function toIso(value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

function timeOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -Infinity : ms;
}

function toEntry(record: RenewalRecord): RenewalEntryV1 {
  return {
    issuedAt: toIso(record.issued_at),
    expiresAt: toIso(record.expires_at),
    renewedBy: record.renewed_by,
    schemaVersion: record.schema_version,
  };
}

/** Newest first by `issued_at` (then `expires_at`), so equal inputs give equal snapshots in any order. */
function renewalSnapshot(records: readonly RenewalRecord[]): RenewalEntryV1[] {
  return [...records]
    .sort((a, b) =>
      timeOf(b.issued_at) - timeOf(a.issued_at) ||
      timeOf(b.expires_at) - timeOf(a.expires_at)
    )
    .slice(0, RENEWAL_SNAPSHOT_SIZE)
    .map(toEntry);
}

export function buildPayload(input: BuildPayloadInput): WebhookPayloadV1 {
  const result = parseWith(WebhookPayloadV1, {
    schemaVersion: 1,
    eventId: input.eventId,
    eventType: input.eventType,
    occurredAt: toIso(input.occurredAt),
    mentorId: input.mentorId,
    certificationStatus: input.certificationStatus,
    expiryDate: toIso(input.expiryDate),
    listingAction: LISTING_ACTION[input.eventType],
    renewalHistory: renewalSnapshot(input.renewalHistory),
  });
  if (!result.ok) throw new PayloadError(result.issues);
  return result.value;
}

export interface BuiltPayload {
  payload: WebhookPayloadV1;
  /** Why stored renewal records were left out (`renewalHistory.<stored index>.<field>`). */
  dropped: Issue[];
}

/**
 * Like `buildPayload`, but a stored renewal record that is not a valid entry on its own is left out
 * (and reported) instead of failing the payload: stored data must never block an event, above all
 * a removal. Still throws `PayloadError` for anything else that is invalid.
 */
export function buildPayloadSkippingInvalid(input: BuildPayloadInput): BuiltPayload {
  const dropped: Issue[] = [];
  const kept = input.renewalHistory.filter((record, index) => {
    const checked = parseWith(RenewalEntryV1, toEntry(record ?? ({} as RenewalRecord)));
    if (!checked.ok) {
      dropped.push(...checked.issues.map((issue) => ({
        path: ["renewalHistory", index, issue.path].filter((p) => p !== "").join("."),
        message: issue.message,
      })));
    }
    return checked.ok;
  });
  return { payload: buildPayload({ ...input, renewalHistory: kept }), dropped };
}

/** Canonical JSON: keys in contract order, no whitespace. Equal payloads give equal bytes. */
export function toJson(payload: WebhookPayloadV1): string {
  const canonical: WebhookPayloadV1 = {
    schemaVersion: payload.schemaVersion,
    eventId: payload.eventId,
    eventType: payload.eventType,
    occurredAt: payload.occurredAt,
    mentorId: payload.mentorId,
    certificationStatus: payload.certificationStatus,
    expiryDate: payload.expiryDate,
    listingAction: payload.listingAction,
    renewalHistory: payload.renewalHistory.map((entry) => ({
      issuedAt: entry.issuedAt,
      expiresAt: entry.expiresAt,
      renewedBy: entry.renewedBy,
      schemaVersion: entry.schemaVersion,
    })),
  };
  return JSON.stringify(canonical);
}

/** Unknown fields are ignored (dropped) for forward compatibility; see contracts/README.md. */
export function fromJson(text: string): ParseResult<WebhookPayloadV1> {
  return parseJsonWith(WebhookPayloadV1, text);
}
