// Pre-signed inbound deliveries (listing.changed events that agree with the portal, for existing
// mentors), so signing costs nothing during the measured run. With `duplicates`, every other
// delivery repeats the previous one byte for byte (Dynamics redelivering). Signed as the sandbox
// signs for Dynamics (node:crypto, synchronous): WebCrypto's per-call thread-pool job and key import
// made pre-signing a few seconds of every run.
import { randomUUID } from "node:crypto";
import { signedHeaders } from "../local/dynamics-sandbox/signatures.ts";
import type { RequestParts } from "./load.ts";

export function signedDeliveries(o: {
  count: number;
  mentorIds: readonly string[];
  secret: string;
  duplicates: boolean;
}): RequestParts[] {
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const deliveries: RequestParts[] = [];
  for (let i = 0; i < o.count; i++) {
    if (o.duplicates && i % 2 === 1) {
      deliveries.push(deliveries[i - 1]);
      continue;
    }
    const eventId = randomUUID();
    const body = JSON.stringify({
      schemaVersion: 1,
      eventId,
      eventType: "listing.changed",
      occurredAt: new Date().toISOString(),
      mentorId: o.mentorIds[i % o.mentorIds.length],
      listing: "listed",
      changedBy: "bench",
    });
    const headers = signedHeaders({
      id: eventId,
      body,
      secret: o.secret,
      nowSeconds: timestampSeconds,
    });
    deliveries.push({ body, headers: { ...headers, "content-type": "application/json" } });
  }
  return deliveries;
}

/** Hands out deliveries in order; counts how often the pool ran dry (then it starts over). */
export function deliveryFeed(deliveries: readonly RequestParts[]) {
  let next = 0;
  let wraps = 0;
  return {
    next(): RequestParts {
      if (next === deliveries.length) {
        next = 0;
        wraps += 1;
      }
      return deliveries[next++];
    },
    get wraps() {
      return wraps;
    },
  };
}
