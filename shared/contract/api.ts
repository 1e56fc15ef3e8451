// Request and response schemas of the HTTP functions. The handlers validate against these and the
// OpenAPI document in contracts/ is generated from them, so the two cannot drift apart.
import { z } from "zod";
import { CoordinatorErrorCode } from "./coordinator-errors.ts";
import { DeliveryState, EventType, Listing, SyncState } from "./vocabulary.ts";
import { IsoDateTime, Uuid } from "./validation.ts";

const Count = z.int().min(0);

/** Operator call: sync one mentor now. */
export const OperatorSyncRequest = z.object({ mentorId: Uuid });

const OutboxRecord = z.looseObject({ mentor_id: Uuid, event_id: Uuid.optional() });

/** Supabase Database Webhook body; the row (new, or old for a DELETE) names the mentor. */
export const DatabaseWebhookSyncRequest = z
  .object({
    type: z.enum(["INSERT", "UPDATE", "DELETE"]),
    table: z.string().min(1),
    schema: z.string().min(1),
    record: OutboxRecord.nullable(),
    old_record: OutboxRecord.nullable(),
  })
  .superRefine((hook, ctx) => {
    if (hook.record === null && hook.old_record === null) {
      ctx.addIssue({
        code: "custom",
        path: ["record"],
        message: "a row with mentor_id is required",
      });
    }
  });

export const SyncRequest = z.union([OperatorSyncRequest, DatabaseWebhookSyncRequest]);
export type SyncRequest = z.infer<typeof SyncRequest>;

export function mentorIdFromSyncRequest(parsed: SyncRequest): string {
  // The schema guarantees a database webhook carries a row (new, or old for a DELETE).
  return "mentorId" in parsed ? parsed.mentorId : (parsed.record ?? parsed.old_record)!.mentor_id;
}

export const SyncResult = z.object({
  eventId: Uuid,
  mentorId: Uuid,
  eventType: EventType,
  state: DeliveryState,
  attempts: Count,
});
export type SyncResult = z.infer<typeof SyncResult>;

export const SyncStatus = z.object({
  mentorId: Uuid,
  state: SyncState,
  listing: Listing,
  lastEventId: Uuid.nullable(),
  lastEventType: EventType.nullable(),
  lastAttemptAt: IsoDateTime.nullable(),
  lastSuccessAt: IsoDateTime.nullable(),
  attempts: Count,
  nextAttemptAt: IsoDateTime.nullable(),
  /** Technical and in English, for support; coordinators read `errorCode` and `summary`. */
  lastError: z.string().nullable(),
  /** Stable code for the dashboard to translate (contracts/README.md lists them); null when fine. */
  errorCode: CoordinatorErrorCode.nullable(),
  /** Plain-language summary, e.g. "HLF Dynamics is unreachable; retrying at 14:05 UTC." */
  summary: z.string(),
  updatedAt: IsoDateTime,
});
export type SyncStatus = z.infer<typeof SyncStatus>;

export const SYNC_STATUS_DEFAULT_LIMIT = 50;
export const SYNC_STATUS_MAX_LIMIT = 200;

/** One mentor's status. */
export const SyncStatusByMentor = z.object({ mentorId: Uuid });

// Query strings carry only strings, so `list` and `limit` also accept their string forms; the
// transform hands the handler plain values.
export const SyncStatusListQuery = z
  .object({
    list: z.union([z.literal(true), z.literal("true")]),
    state: SyncState.optional(),
    chapterId: Uuid.optional(),
    limit: z
      .union([
        z.int().min(1).max(SYNC_STATUS_MAX_LIMIT),
        z.string().regex(/^(?:[1-9]|[1-9]\d|1\d\d|200)$/, "must be an integer from 1 to 200"),
      ])
      .optional(),
    cursor: z.string().min(1).max(1000).optional(),
  })
  .transform((query) => ({
    list: true as const,
    state: query.state,
    chapterId: query.chapterId,
    limit: query.limit === undefined ? SYNC_STATUS_DEFAULT_LIMIT : Number(query.limit),
    cursor: query.cursor,
  }));

export const SyncStatusQuery = z.union([SyncStatusListQuery, SyncStatusByMentor]);
export type SyncStatusQuery = z.output<typeof SyncStatusQuery>;

export const SyncStatusListItem = SyncStatus.extend({
  mentorName: z.string(),
  chapterIds: z.array(Uuid),
}).meta({ title: "SyncStatusListItem" });
export type SyncStatusListItem = z.infer<typeof SyncStatusListItem>;

export const SyncStatusPage = z.object({
  items: z.array(SyncStatusListItem),
  nextCursor: z.string().nullable(),
});
export type SyncStatusPage = z.infer<typeof SyncStatusPage>;

/** What became of the events a call dispatched (sync-retry and sync-resend's recovery). */
const DispatchCounts = { delivered: Count, retrying: Count, failed: Count, held: Count };

export const SyncRetryResult = z.object({
  claimed: Count,
  ...DispatchCounts,
  /** Held events released because the flag is on again. */
  released: Count,
  /** Dead letters re-queued by this call (`requeue: "failed"`). */
  requeued: Count,
  /** Rounds whose result was not written: the lease had expired and another dispatcher took over. */
  lostLeases: Count,
  durationMs: z.number().min(0),
  /**
   * CPU ms the dispatch used, by the dispatcher's own meter (the process's CPU time under Deno; an
   * estimate per delivery in Supabase's Edge Runtime, which offers no CPU reading). It stops
   * claiming batches before SYNC_CPU_BUDGET_MS.
   */
  cpuMs: z.number().min(0),
});
export type SyncRetryResult = z.infer<typeof SyncRetryResult>;

export const InboundAck = z.object({
  status: z.enum(["accepted", "duplicate"]),
  /** The inbound eventId as stored: lowercased, any 8-4-4-4-12 hex id. */
  eventId: z.guid(),
});
export type InboundAck = z.infer<typeof InboundAck>;

/** The error envelope every function answers with (built by shared/http/http.ts). */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
    /** `misconfigured` (503) only: the variable to set; never its value. */
    variable: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * sync-retry body: `{}` sweeps; `requeue: "failed"` first re-queues dead letters (one mentor's or
 * all).
 */
export const SyncRetryRequest = z.strictObject({
  requeue: z.literal("failed").optional(),
  mentorId: Uuid.optional(),
});
export type SyncRetryRequest = z.infer<typeof SyncRetryRequest>;

/** sync-reconcile body: `{}` (starts a run, or resumes the unfinished one). */
export const ReconcileRequest = z.strictObject({});

/**
 * sync-resend body: `{mentorId}` resends that mentor's current state (a coordinator of the mentor,
 * or the service role; once a minute per mentor); `{failedSince}` (service role only) re-queues
 * every dead letter since then that no newer event of its mentor has made moot.
 */
export const SyncResendRequest = z.union([
  z.strictObject({ mentorId: Uuid }),
  z.strictObject({ failedSince: z.iso.datetime({ offset: true }) }),
]);
export type SyncResendRequest = z.infer<typeof SyncResendRequest>;

export const SyncRecoverResult = z.object({
  ...DispatchCounts,
  /** Dead letters re-queued by this call (each audited in sync_resend_requests). */
  recovered: Count,
});
export type SyncRecoverResult = z.infer<typeof SyncRecoverResult>;

/** An instant as the database renders it in JSON: RFC 3339 with an offset, any precision. */
const DbInstant = z.iso.datetime({ offset: true });

/** sync-reconcile's answer: the run so far (`running`: the next call resumes it). */
export const ReconcileRun = z.object({
  runId: Count,
  status: z.enum(["running", "done", "failed"]),
  startedAt: DbInstant,
  finishedAt: DbInstant.nullable(),
  invocations: Count,
  pages: Count,
  /** Requests sent to Dynamics by this run so far (retries included). */
  requests: Count,
  checked: Count,
  drift: Count,
  enqueued: Count,
  unknown: Count,
  inFlight: Count,
  error: z.string().nullable(),
});
export type ReconcileRun = z.infer<typeof ReconcileRun>;

/** sync-health's JSON answer (with `Accept: text/plain`, the same as Prometheus text). */
export const SyncHealth = z.object({
  backlog: z.object({ pending: Count, retrying: Count, held: Count, failed: Count }),
  oldestDueAgeSeconds: z.number().min(0).nullable(),
  lastHour: z.object({
    deliveries: Count,
    failures: Count,
    latencyMsP50: z.number().min(0).nullable(),
    latencyMsP95: z.number().min(0).nullable(),
  }),
  lastSuccessAt: DbInstant.nullable(),
  /** Start of the current run of outage failures; null while Dynamics answers. */
  failingSince: DbInstant.nullable(),
  /** The answering process's circuit breaker (each edge isolate has its own); null without one. */
  breaker: z.enum(["closed", "half-open", "open"]).nullable(),
  pause: z.object({
    paused: z.boolean(),
    pausedBy: z.string().nullable(),
    pausedAt: DbInstant.nullable(),
    reason: z.string().nullable(),
    resumedBy: z.string().nullable(),
    resumedAt: DbInstant.nullable(),
  }),
  lastReconciliation: ReconcileRun.pick({
    runId: true,
    status: true,
    startedAt: true,
    finishedAt: true,
    checked: true,
    drift: true,
    enqueued: true,
    unknown: true,
    requests: true,
    error: true,
  }).nullable(),
  /** Open alerts by cause (dead_letter, outage, drift, gone); causes with none are absent. */
  openAlerts: z.record(z.string(), Count),
});
export type SyncHealth = z.infer<typeof SyncHealth>;
