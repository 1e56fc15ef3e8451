// Everything the sandbox remembers: its configuration, issued tokens, listings, the applied-event log,
// pending faults, the throttle window and counters. Plain data plus small pure operations, so the
// HTTP layer stays thin and tests can read the state directly.
import type { WebhookPayloadV1 } from "../../shared/contract/payload.ts";
import { type DeliveryLog, emptyDeliveryLog } from "./deliveries.ts";
import type { Fault, FaultTarget } from "./faults.ts";
import type { Listing } from "../../shared/contract/vocabulary.ts";

export interface SandboxConfig {
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** Accepted in `apiKeyHeader` as an alternative to a bearer token; null disables it. */
  apiKey: string | null;
  apiKeyHeader: string;
  signingSecrets: string[];
  signatureToleranceSeconds: number;
  tokenLifetimeSeconds: number;
  callbackUrl: string | null;
  callbackSecret: string | null;
}

export interface ListingRecord {
  mentorId: string;
  listing: Listing;
  /** The last applied event; null for a listing only ever set by hand (the control API). */
  lastEventId: string | null;
  lastEventType: WebhookPayloadV1["eventType"] | null;
  occurredAt: string | null;
  /** What the portal shows from the last applied payload; null for a listing set by hand. */
  expiryDate: string | null;
  renewalHistory: WebhookPayloadV1["renewalHistory"] | null;
  updatedAt: string;
  changes: number;
  /** Who set the current listing: an applied event, or a portal editor (the control API). */
  source: "event" | "editor";
}

export interface AppliedEvent {
  sequence: number;
  eventId: string;
  eventType: WebhookPayloadV1["eventType"];
  mentorId: string;
  occurredAt: string;
  expiryDate: string;
  receivedAt: string;
  listing: Listing;
  signatureScheme: string;
}

export interface Counters {
  /** Requests to the webhook receiver, whatever happened to them. */
  requests: number;
  delivered: number;
  duplicates: number;
  /** Applied although older than the mentor's last applied event (per-mentor order broken). */
  outOfOrder: number;
  rejected: Record<string, number>;
  /** Verified events answered 2xx but not applied (`silent_loss` faults). */
  silentlyDropped: number;
  /** Pages served from the listings collection. */
  listingPages: number;
  faultsServed: Record<string, number>;
  /** 429 answers, from the throttle or from `rate_limit` faults. */
  throttled: number;
  tokenRequests: number;
  tokensIssued: number;
  callbacks: { attempts: number; sent: number; failed: number };
}

/**
 * Dataverse's service protection limits, scaled: at most `limit` requests, and `executionMs` of
 * combined execution time, in any sliding window of `windowMs` (Dataverse: 6,000 requests and
 * 1,200,000 ms per 300 s, per user and web server). The window slides as Dataverse's does: a request
 * frees its place exactly `windowMs` after it was accepted, so a 429's Retry-After is the time until
 * the oldest accepted request leaves the window. Refused requests take no place. Execution time is
 * only reported (the sandbox answers in about a millisecond, so it never runs out first).
 */
export interface Throttle {
  limit: number;
  windowMs: number;
  /** A 429 also says its wait in milliseconds (not a Dataverse header; see control.ts). */
  millisecondHint: boolean;
  executionMs: number;
  /** When each request still in the window was accepted (epoch ms, oldest first). */
  accepted: number[];
  /** How long each request answered in the window took to handle, and when it ended. */
  executions: { atMs: number; ms: number }[];
  /** The sum of `executions`. */
  executedMs: number;
}

/** Dataverse allows 1,200 s of execution per 300 s window: four times the window. */
export const EXECUTION_PER_WINDOW = 4;

export function createThrottle(
  { limit, windowMs, millisecondHint = false }: {
    limit: number;
    windowMs: number;
    millisecondHint?: boolean;
  },
): Throttle {
  return {
    limit,
    windowMs,
    millisecondHint,
    executionMs: EXECUTION_PER_WINDOW * windowMs,
    accepted: [],
    executions: [],
    executedMs: 0,
  };
}

export interface SandboxState {
  config: SandboxConfig;
  /** Issued access tokens and their expiry (epoch ms). */
  tokens: Map<string, number>;
  listings: Map<string, ListingRecord>;
  events: AppliedEvent[];
  /** Every request to the webhook receiver, latest few hundred (the inspector page). */
  deliveries: DeliveryLog;
  seenEventIds: Set<string>;
  faults: Record<FaultTarget, Fault[]>;
  throttle: Throttle | null;
  counters: Counters;
}

export function emptyCounters(): Counters {
  return {
    requests: 0,
    delivered: 0,
    duplicates: 0,
    outOfOrder: 0,
    rejected: {},
    silentlyDropped: 0,
    listingPages: 0,
    faultsServed: {},
    throttled: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    callbacks: { attempts: 0, sent: 0, failed: 0 },
  };
}

export function createState(config: SandboxConfig): SandboxState {
  return {
    config,
    tokens: new Map(),
    listings: new Map(),
    events: [],
    deliveries: emptyDeliveryLog(),
    seenEventIds: new Set(),
    faults: { webhook: [], token: [], loss: [] },
    throttle: null,
    counters: emptyCounters(),
  };
}

/** Forgets everything observed (tokens, listings, events, faults, throttle, counters); keeps config. */
export function resetState(state: SandboxState): void {
  Object.assign(state, createState(state.config));
}

export function increment(bucket: Record<string, number>, key: string): void {
  bucket[key] = (bucket[key] ?? 0) + 1;
}

const LISTING_AFTER: Record<WebhookPayloadV1["eventType"], Listing> = {
  "certification.expired": "unlisted",
  "certification.renewed": "listed",
};

/** Applies a verified payload; false (and no change) when its eventId was already applied. */
export function applyEvent(
  state: SandboxState,
  payload: WebhookPayloadV1,
  meta: { nowMs: number; signatureScheme: string },
): { applied: false } | { applied: true; event: AppliedEvent } {
  if (state.seenEventIds.has(payload.eventId)) {
    state.counters.duplicates += 1;
    return { applied: false };
  }
  state.seenEventIds.add(payload.eventId);
  const listing = LISTING_AFTER[payload.eventType];
  const receivedAt = new Date(meta.nowMs).toISOString();
  const previous = state.listings.get(payload.mentorId);
  if (previous?.occurredAt && Date.parse(payload.occurredAt) < Date.parse(previous.occurredAt)) {
    state.counters.outOfOrder += 1;
  }
  state.listings.set(payload.mentorId, {
    mentorId: payload.mentorId,
    listing,
    lastEventId: payload.eventId,
    lastEventType: payload.eventType,
    occurredAt: payload.occurredAt,
    expiryDate: payload.expiryDate,
    renewalHistory: payload.renewalHistory,
    updatedAt: receivedAt,
    changes: (previous?.changes ?? 0) + 1,
    source: "event",
  });
  const event: AppliedEvent = {
    sequence: state.events.length + 1,
    eventId: payload.eventId,
    eventType: payload.eventType,
    mentorId: payload.mentorId,
    occurredAt: payload.occurredAt,
    expiryDate: payload.expiryDate,
    receivedAt,
    listing,
    signatureScheme: meta.signatureScheme,
  };
  state.events.push(event);
  state.counters.delivered += 1;
  return { applied: true, event };
}

/** A portal editor sets a listing by hand: the last applied event stays as it was. */
export function editListing(
  state: SandboxState,
  mentorId: string,
  listing: Listing,
  nowMs: number,
): ListingRecord {
  const previous = state.listings.get(mentorId);
  const record: ListingRecord = {
    mentorId,
    listing,
    lastEventId: previous?.lastEventId ?? null,
    lastEventType: previous?.lastEventType ?? null,
    occurredAt: previous?.occurredAt ?? null,
    expiryDate: previous?.expiryDate ?? null,
    renewalHistory: previous?.renewalHistory ?? null,
    updatedAt: new Date(nowMs).toISOString(),
    changes: (previous?.changes ?? 0) + 1,
    source: "editor",
  };
  state.listings.set(mentorId, record);
  return record;
}

/** Drops what has left the window ending at `nowMs`. */
function slide(throttle: Throttle, nowMs: number): void {
  const since = nowMs - throttle.windowMs;
  let old = 0;
  while (old < throttle.accepted.length && throttle.accepted[old] <= since) old += 1;
  if (old > 0) throttle.accepted.splice(0, old);
  old = 0;
  while (old < throttle.executions.length && throttle.executions[old].atMs <= since) {
    throttle.executedMs -= throttle.executions[old].ms;
    old += 1;
  }
  if (old > 0) throttle.executions.splice(0, old);
}

/** Counts a request against the throttle window; the wait in ms when over the limit, else null. */
export function throttleWait(state: SandboxState, nowMs: number): number | null {
  const throttle = state.throttle;
  if (!throttle) return null;
  slide(throttle, nowMs);
  if (throttle.accepted.length < throttle.limit) {
    throttle.accepted.push(nowMs);
    return null;
  }
  return throttle.accepted[0] + throttle.windowMs - nowMs;
}

/** Records how long a request to a throttled endpoint took to handle. */
export function recordExecution(state: SandboxState, nowMs: number, ms: number): void {
  const throttle = state.throttle;
  if (!throttle) return;
  throttle.executions.push({ atMs: nowMs, ms });
  throttle.executedMs += ms;
}

/** What the window still allows: Dataverse's two `x-ms-ratelimit-*` counts; null without a throttle. */
export function throttleRemaining(
  state: SandboxState,
  nowMs: number,
): { requests: number; executionMs: number } | null {
  const throttle = state.throttle;
  if (!throttle) return null;
  slide(throttle, nowMs);
  return {
    requests: Math.max(0, throttle.limit - throttle.accepted.length),
    executionMs: Math.max(0, throttle.executionMs - throttle.executedMs),
  };
}
