// The words the whole system shares, each defined once: the contract's schemas, the outbox, the
// read models and the sandbox import these instead of repeating string unions. Titles name the
// generated Dart types (contracts/dart/).
import { z } from "zod";

/** What happened to a mentor's certification: the outbound event types. */
export const EventType = z.enum([
  "certification.expired",
  "certification.renewed",
]).meta({ title: "EventType" });
export type EventType = z.infer<typeof EventType>;

export const CertificationStatus = z.enum(["active", "expired", "paused"]).meta({
  title: "CertificationStatus",
});
export type CertificationStatus = z.infer<typeof CertificationStatus>;

/** A mentor's listing on the portal, as Dynamics reports it. */
export const Listing = z.enum(["listed", "unlisted"]).meta({ title: "Listing" });
export type Listing = z.infer<typeof Listing>;

/** The states of one outbox event (`sync_events.state`). */
export const DeliveryState = z.enum([
  "pending",
  "retrying",
  "delivered",
  "failed",
  "held",
  "superseded",
]);
export type DeliveryState = z.infer<typeof DeliveryState>;

/** A mentor's sync state in the status read model. */
export const SyncState = z.enum(["synced", "pending", "retrying", "failed", "held"]).meta({
  title: "SyncState",
});
export type SyncState = z.infer<typeof SyncState>;
