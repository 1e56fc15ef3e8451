// Fixtures for the webhook contract tests: valid v1 objects by default, overridable field by field.
import {
  buildPayload,
  type BuildPayloadInput,
  type RenewalRecord,
  type WebhookPayloadV1,
} from "../../shared/contract/payload.ts";
import type { ListingChangedV1, ListingConfirmedV1 } from "../../shared/contract/inbound.ts";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

export const FIXED_EVENT_ID = "6f1c2b9e-4d7a-4c1e-9b3f-2a5d8e7c1f40";
export const FIXED_MENTOR_ID = "0b8e6a52-3c4d-4f1a-8e2b-9d7c6a5b4e31";
export const FIXED_COORDINATOR_ID = "c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f";
export const FIXED_OCCURRED_AT = new Date("2026-11-22T10:00:00.000Z");

/** The payload's fields in canonical (serialisation) order. */
export const PAYLOAD_FIELDS = [
  "schemaVersion",
  "eventId",
  "eventType",
  "occurredAt",
  "mentorId",
  "certificationStatus",
  "expiryDate",
  "listingAction",
  "renewalHistory",
];

/** Every header `outboundHeaders` sets, sorted (Authorization is added by the Dynamics client). */
export const SIGNED_OUTBOUND_HEADERS = [
  "Content-Type",
  "Idempotency-Key",
  "X-HLF-Signature",
  "webhook-id",
  "webhook-signature",
  "webhook-timestamp",
];

export function renewalRecord(overrides: Partial<RenewalRecord> = {}): RenewalRecord {
  return {
    schema_version: 1,
    issued_at: "2025-11-22T10:00:00.000Z",
    expires_at: "2026-11-22T10:00:00.000Z",
    renewed_by: FIXED_COORDINATOR_ID,
    ...overrides,
  };
}

/** `count` yearly renewals, newest issued `latest`; returned oldest first (as a table scan might). */
export function renewalRecords(count: number, latest = new Date("2025-11-22T10:00:00.000Z")) {
  return Array.from({ length: count }, (_, i) => {
    const issued = new Date(latest.getTime() - (count - 1 - i) * YEAR_MS);
    return renewalRecord({
      issued_at: issued.toISOString(),
      expires_at: new Date(issued.getTime() + YEAR_MS).toISOString(),
      renewed_by: i % 2 === 0 ? FIXED_COORDINATOR_ID : null,
    });
  });
}

export function payloadInput(overrides: Partial<BuildPayloadInput> = {}): BuildPayloadInput {
  return {
    eventId: FIXED_EVENT_ID,
    eventType: "certification.expired",
    occurredAt: FIXED_OCCURRED_AT,
    mentorId: FIXED_MENTOR_ID,
    certificationStatus: "expired",
    expiryDate: new Date("2026-11-22T00:00:00.000Z"),
    renewalHistory: renewalRecords(2),
    ...overrides,
  };
}

export function payload(overrides: Partial<BuildPayloadInput> = {}): WebhookPayloadV1 {
  return buildPayload(payloadInput(overrides));
}

/** A valid payload as a plain JSON object, for tests that break it on purpose. */
export function payloadObject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...JSON.parse(JSON.stringify(payload())), ...overrides };
}

export function listingConfirmed(overrides: Partial<ListingConfirmedV1> = {}): ListingConfirmedV1 {
  return {
    schemaVersion: 1,
    eventId: crypto.randomUUID(),
    eventType: "listing.confirmed",
    occurredAt: "2026-11-22T10:00:01.250Z",
    mentorId: FIXED_MENTOR_ID,
    listing: "unlisted",
    inReplyTo: FIXED_EVENT_ID,
    ...overrides,
  };
}

export function listingChanged(overrides: Partial<ListingChangedV1> = {}): ListingChangedV1 {
  return {
    schemaVersion: 1,
    eventId: crypto.randomUUID(),
    eventType: "listing.changed",
    occurredAt: "2026-11-23T08:30:00.000Z",
    mentorId: FIXED_MENTOR_ID,
    listing: "listed",
    changedBy: "portal-admin@hlf.example",
    reason: "Manuelt gjenopprettet – sertifikat fornyet på papir",
    ...overrides,
  };
}
