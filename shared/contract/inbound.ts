// Events HLF Dynamics posts to our `dynamics-webhook` function (inbound contract v1).
import { z } from "zod";
import { GuidInput, InstantInput, parseJsonWith, type ParseResult } from "./validation.ts";
import { Listing } from "./vocabulary.ts";

const inboundEnvelope = {
  schemaVersion: z.literal(1),
  eventId: GuidInput,
  occurredAt: InstantInput,
  mentorId: GuidInput,
  listing: Listing,
};

/** Dynamics applied one of our changes; `inReplyTo` is the outbound `eventId` it answers. */
export const ListingConfirmedV1 = z.object({
  ...inboundEnvelope,
  eventType: z.literal("listing.confirmed"),
  inReplyTo: GuidInput,
}).meta({ title: "Dynamics listing.confirmed event v1" });
export type ListingConfirmedV1 = z.infer<typeof ListingConfirmedV1>;

/** Someone changed a mentor's listing directly in the portal. */
export const ListingChangedV1 = z.object({
  ...inboundEnvelope,
  eventType: z.literal("listing.changed"),
  changedBy: z.string().min(1).max(200).optional(),
  reason: z.string().max(2000).optional(),
}).meta({ title: "Dynamics listing.changed event v1" });
export type ListingChangedV1 = z.infer<typeof ListingChangedV1>;

export const InboundEventV1 = z.discriminatedUnion("eventType", [
  ListingConfirmedV1,
  ListingChangedV1,
]);
export type InboundEventV1 = z.infer<typeof InboundEventV1>;

/** Unknown fields are ignored (dropped) for forward compatibility; see contracts/README.md. */
export function parseInboundEvent(text: string): ParseResult<InboundEventV1> {
  return parseJsonWith(InboundEventV1, text);
}
