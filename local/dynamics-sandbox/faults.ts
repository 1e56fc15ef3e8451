// Faults the control API can queue. Each serves the next `count` matching requests, in the order
// they were queued; webhook faults, token-endpoint faults and silent losses have separate queues.
import { z } from "zod";
import { EventType } from "../../shared/contract/vocabulary.ts";

const count = z.number().int().min(1).max(1_000_000).default(1);

export const FaultSpec = z.discriminatedUnion("kind", [
  /** Answer with this status and a Dataverse-style error body (e.g. 500/502/503/504, 400, 422). */
  z.object({
    kind: z.literal("status"),
    status: z.number().int().min(400).max(599),
    count,
    retryAfter: z.string().optional(),
    /** Quote the request's headers in the error message, as a careless proxy might. */
    echoHeaders: z.boolean().default(false),
  }),
  /** 429 with `Retry-After` as delta-seconds or as an HTTP-date `seconds` from now. */
  z.object({
    kind: z.literal("rate_limit"),
    count,
    retryAfterSeconds: z.number().int().min(0).max(86_400).default(1),
    format: z.enum(["seconds", "http-date"]).default("seconds"),
  }),
  /** Hold the request `ms` (or until the client gives up), then handle it normally. */
  z.object({
    kind: z.literal("hang"),
    count,
    ms: z.number().int().min(0).max(600_000).default(60_000),
  }),
  /** Destroy the socket without an answer. */
  z.object({ kind: z.literal("reset"), count }),
  /** 401 although the token is valid, as when Entra revoked it early. */
  z.object({ kind: z.literal("reject_token"), count }),
  /** The token endpoint answers `status` (Entra's `temporarily_unavailable`). */
  z.object({
    kind: z.literal("token_down"),
    count,
    status: z.number().int().min(400).max(599).default(503),
    /** Quote the raw form body (client secret included) in `error_description`. */
    echoRequest: z.boolean().default(false),
  }),
  /**
   * Answer 204 to a valid, verified event without applying it: the silent loss that only
   * reconciliation can see. Drops one in every `every` matching events (of `eventType` if given),
   * `count` times in all.
   */
  z.object({
    kind: z.literal("silent_loss"),
    count,
    every: z.number().int().min(1).max(1_000_000).default(1),
    eventType: EventType.optional(),
    /** Matching events seen so far (shown by the control API; starts at 0). */
    matched: z.number().int().min(0).default(0),
  }),
]);
export type FaultSpec = z.input<typeof FaultSpec>;
export type Fault = z.output<typeof FaultSpec>;

export const FaultList = z.union([FaultSpec, z.array(FaultSpec).max(1000)]).transform((value) =>
  Array.isArray(value) ? value : [value]
);

export type FaultTarget = "webhook" | "token" | "loss";

export function targetOf(fault: Fault): FaultTarget {
  if (fault.kind === "token_down") return "token";
  return fault.kind === "silent_loss" ? "loss" : "webhook";
}

/** Takes one use of the next queued fault for `target`, or null when none is queued. */
export function takeFault(queues: Record<FaultTarget, Fault[]>, target: FaultTarget): Fault | null {
  const queue = queues[target];
  const head = queue[0];
  if (!head) return null;
  head.count -= 1;
  if (head.count <= 0) queue.shift();
  return head;
}

/** True when the next queued silent loss drops this (verified, parsed) event. */
export function takeSilentLoss(
  queues: Record<FaultTarget, Fault[]>,
  eventType: EventType,
): boolean {
  const head = queues.loss[0];
  if (head?.kind !== "silent_loss") return false;
  if (head.eventType !== undefined && head.eventType !== eventType) return false;
  head.matched += 1;
  if (head.matched % head.every !== 0) return false;
  return takeFault(queues, "loss") !== null;
}
