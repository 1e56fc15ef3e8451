// The sync service: the interfaces the spec names (syncCertificationExpired/Renewed, sendWebhook,
// getSyncStatus) over the durable outbox. Events are claimed with a lease, delivered through the
// Dynamics client, audited attempt by attempt, and rescheduled or dead-lettered when a round fails.
import type { SyncResult, SyncStatus } from "./contract/api.ts";
import { type AttemptTally, createAttemptTally } from "./outbox/attempt-summary.ts";
import type { Sql } from "./db.ts";
import type { AttemptRecord, DynamicsClient, SendOutcome } from "./dynamics/dynamics-client.ts";
import type { Logger } from "./logger.ts";
import { mapWithConcurrency } from "./outbox/concurrency.ts";
import { createWriteBatcher, type WriteBatcher } from "./outbox/write-batcher.ts";
import {
  buildPayloadSkippingInvalid,
  type EventType,
  PayloadError,
  toJson,
  type WebhookPayloadV1,
} from "./contract/payload.ts";
import { type NextStep, nextStep, type ReschedulePolicy } from "./outbox/reschedule.ts";
import { outboundHeaders } from "./contract/signer.ts";
import { fetchSyncStatus } from "./status-queries.ts";
import {
  claimDueEvents,
  type ClaimedEvent,
  deliveryPaused,
  enqueueEvent,
  type EventRow,
  type Finish,
  finishRounds,
  getEvent,
  holdDueEvents,
  latestEvent,
  mentorListing,
  raiseInvalidHistoryIssue,
  releaseHeldEvents,
  requeueFailedEvents,
  type RoundResult,
} from "./outbox/sync-queries.ts";

export interface SyncServiceOptions {
  sql: Sql;
  client: DynamicsClient;
  log: Logger;
  /** Identifies this dispatcher in leases and audit rows. */
  owner: string;
  /**
   * The DYNAMICS_SYNC_ENABLED flag: the default for a fresh install. Once the pause switch row
   * exists (pause_sync / resume_sync), the row decides.
   */
  enabled: boolean;
  signingSecret: string;
  policy: ReschedulePolicy;
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  /** Wall-clock budget of one dispatch call (an edge function's limit, less a margin). */
  budgetMs: number;
  now?: () => number;
  random?: () => number;
}

export interface DispatchCounts {
  claimed: number;
  delivered: number;
  retrying: number;
  failed: number;
  held: number;
  released: number;
  lostLeases: number;
}

export type SyncCallResult =
  | { kind: "ok"; result: SyncResult }
  | { kind: "not_found" }
  | { kind: "conflict"; message: string };

export interface SyncService {
  syncCertificationExpired(mentorId: string): Promise<SyncCallResult>;
  syncCertificationRenewed(mentorId: string): Promise<SyncCallResult>;
  sendWebhook(
    eventType: EventType,
    payload: WebhookPayloadV1,
    opts?: { budgetMs?: number; onAttempt?: (a: AttemptRecord) => void },
  ): Promise<{ outcome: SendOutcome; attempts: AttemptRecord[] }>;
  getSyncStatus(mentorId: string): Promise<SyncStatus | null>;
  /** `signal`: stop claiming new batches once aborted (a worker shutting down); claimed ones finish. */
  dispatchDue(
    opts?: { mentorId?: string; budgetMs?: number; signal?: AbortSignal },
  ): Promise<DispatchCounts>;
  requeueFailed(mentorId?: string): Promise<number>;
}

const emptyCounts = (): DispatchCounts => ({
  claimed: 0,
  delivered: 0,
  retrying: 0,
  failed: 0,
  held: 0,
  released: 0,
  lostLeases: 0,
});

// Leave this much of a lease unused, so a slow round never outlives the lease it writes under; a
// short lease keeps a quarter instead, or it would leave no time to deliver at all.
const LEASE_MARGIN_MS = 5_000;
const leaseBudgetMs = (leaseSeconds: number) =>
  leaseSeconds * 1000 - Math.min(LEASE_MARGIN_MS, leaseSeconds * 250);

// How long a finished round waits for others to be recorded with it: short against the exposure
// window, long enough to gather the deliveries that finish together.
const RECORD_DELAY_MS = 2;

// Codes with which the client gives up on a round before sending anything.
const REFUSALS = new Set(["circuit_open", "budget_exhausted"]);

export function createSyncService(o: SyncServiceOptions): SyncService {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const { sql, log } = o;

  async function sendWebhook(
    eventType: EventType,
    payload: WebhookPayloadV1,
    opts: { budgetMs?: number; onAttempt?: (a: AttemptRecord) => void } = {},
  ) {
    if (payload.eventType !== eventType) {
      throw new PayloadError([{ path: "eventType", message: `expected ${eventType}` }]);
    }
    const body = toJson(payload);
    const attempts: AttemptRecord[] = [];
    const outcome = await o.client.send({
      eventId: payload.eventId,
      body,
      budgetMs: opts.budgetMs,
      headers: ({ nowMs }) =>
        outboundHeaders({
          id: payload.eventId,
          body,
          secret: o.signingSecret,
          timestampSeconds: Math.floor(nowMs / 1000),
        }),
      onAttempt: (a) => {
        attempts.push(a);
        // A failed attempt keeps its own line; successes are summarised per batch (dispatchDue),
        // with LOG_LEVEL=debug for one line each.
        const delivered = a.outcome === "delivered";
        (delivered ? log.debug : log.info)(
          delivered ? "dynamics attempt" : "dynamics attempt failed",
          {
            eventId: payload.eventId,
            mentorId: payload.mentorId,
            eventType,
            attempt: a.attempt,
            status: a.status,
            outcome: a.outcome,
            errorCode: a.errorCode,
            durationMs: Math.round(a.durationMs),
          },
        );
        opts.onAttempt?.(a);
      },
    });
    return { outcome, attempts };
  }

  /**
   * `batch.refused` counts the rounds the client gave up on before sending anything; `batch.record`
   * writes a round's result together with those of the deliveries finishing at the same time.
   */
  async function deliver(
    event: ClaimedEvent,
    deadline: number,
    batch: {
      refused: number;
      record: WriteBatcher<RoundResult, boolean>;
      attempts: AttemptTally;
    },
  ): Promise<Finish["state"] | null> {
    let payload: WebhookPayloadV1;
    try {
      const built = buildPayloadSkippingInvalid({
        eventId: event.eventId,
        eventType: event.eventType,
        occurredAt: event.createdAt,
        mentorId: event.mentorId,
        certificationStatus: event.certificationStatus,
        expiryDate: event.expiryDate,
        renewalHistory: event.renewalHistory,
      });
      payload = built.payload;
      if (built.dropped.length > 0) {
        log.warn("renewal entries left out of the payload", {
          eventId: event.eventId,
          mentorId: event.mentorId,
          issues: built.dropped.length,
        });
        await raiseInvalidHistoryIssue(sql, event, built.dropped);
      }
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      const finish: Finish = {
        state: "failed",
        error: err.message,
        code: "invalid_payload",
        status: null,
      };
      return (await batch.record.add({ event, attempts: [], finish })) ? "failed" : null;
    }
    const budgetMs = Math.max(
      0,
      Math.min(deadline - now(), leaseBudgetMs(o.leaseSeconds)),
    );
    const { outcome, attempts } = await sendWebhook(event.eventType, payload, {
      budgetMs,
      onAttempt: (a) => batch.attempts.add(a.durationMs, a.outcome === "delivered"),
    });
    let finish: Finish;
    if (outcome.ok) {
      finish = { state: "delivered", status: outcome.status };
    } else {
      // Refused before any request went out (circuit open, or no time left in this call's budget):
      // Dynamics saw nothing, so the round does not count against the dead-letter budget and the
      // event is due again as soon as the refusal ends.
      const refused = outcome.attempts === 0 && REFUSALS.has(outcome.error.code);
      if (refused) batch.refused += 1;
      const step: NextStep = refused
        ? { state: "retrying", nextAttemptAt: new Date(now() + (outcome.error.retryAfterMs ?? 0)) }
        : nextStep(o.policy, {
          error: outcome.error,
          rounds: event.rounds,
          createdAt: event.createdAt,
          now: new Date(now()),
          random,
        });
      const error = `${outcome.error.code}: ${outcome.error.message}`;
      const { code } = outcome.error;
      const status = outcome.error.status ?? null;
      finish = step.state === "retrying"
        ? { state: "retrying", nextAttemptAt: step.nextAttemptAt, error, code, status, refused }
        : { state: "failed", error, code, status };
      if (step.state === "failed") {
        log.warn("sync event dead-lettered", {
          eventId: event.eventId,
          mentorId: event.mentorId,
          reason: step.reason,
          errorCode: outcome.error.code,
        });
      }
    }
    return (await batch.record.add({ event, attempts, finish })) ? finish.state : null;
  }

  async function dispatchDue(
    opts: { mentorId?: string; budgetMs?: number; signal?: AbortSignal } = {},
  ): Promise<DispatchCounts> {
    const counts = emptyCounts();
    if (await deliveryPaused(sql, o.enabled)) {
      counts.held = await holdDueEvents(sql);
      return counts;
    }
    counts.released = await releaseHeldEvents(sql);
    const budgetMs = opts.budgetMs ?? o.budgetMs;
    const deadline = now() + budgetMs;
    // A batch claimed in the last moments of the budget could not be sent; leave it for the next call.
    const claimFloorMs = Math.min(5_000, budgetMs / 4);
    while (deadline - now() > claimFloorMs && !opts.signal?.aborted) {
      // Paused meanwhile (by an operator, or by a 410 Gone of this very dispatch): send no more.
      if (counts.claimed > 0 && await deliveryPaused(sql, o.enabled)) {
        counts.held = await holdDueEvents(sql);
        break;
      }
      const batch = await claimDueEvents(sql, {
        owner: o.owner,
        leaseSeconds: o.leaseSeconds,
        limit: o.batchSize,
        mentorId: opts.mentorId,
      });
      if (batch.length === 0) break;
      counts.claimed += batch.length;
      const batchStarted = now();
      const tally = {
        refused: 0,
        attempts: createAttemptTally(),
        record: createWriteBatcher(
          (results: RoundResult[]) => finishRounds(sql, o.owner, results),
          { maxItems: o.concurrency, maxDelayMs: RECORD_DELAY_MS },
        ),
      };
      const states = await mapWithConcurrency(
        batch,
        o.concurrency,
        (e) => deliver(e, deadline, tally),
      );
      const batchCounts = { delivered: 0, retrying: 0, failed: 0, lostLeases: 0 };
      for (const state of states) {
        if (state === null) batchCounts.lostLeases += 1;
        else batchCounts[state] += 1;
      }
      for (const [key, n] of Object.entries(batchCounts)) counts[key as keyof DispatchCounts] += n;
      log.info("dispatch batch", {
        claimed: batch.length,
        ...batchCounts,
        refused: tally.refused,
        ...tally.attempts.summary(),
        durationMs: now() - batchStarted,
      });
      // Nothing of this batch went out (breaker open, budget gone): claiming again now would only
      // spin on the same events; the next call picks them up.
      if (tally.refused === batch.length) break;
    }
    return counts;
  }

  function toResult(row: EventRow): SyncResult {
    return {
      eventId: row.eventId,
      mentorId: row.mentorId,
      eventType: row.eventType,
      state: row.state,
      attempts: row.attempts,
    };
  }

  async function syncMentor(mentorId: string, type: EventType): Promise<SyncCallResult> {
    const listing = await mentorListing(sql, mentorId);
    if (!listing) return { kind: "not_found" };
    const latest = await latestEvent(sql, mentorId);
    let event: EventRow;
    if (latest && latest.eventType === type) {
      if (latest.state === "failed") await requeueFailedEvents(sql, { mentorId });
      event = latest;
    } else if (listing.listed === (type === "certification.renewed")) {
      // No event yet for the mentor's current state (e.g. data loaded before this service existed).
      event = await enqueueEvent(sql, mentorId, type);
    } else {
      const state = listing.listed ? "listed" : "unlisted";
      return {
        kind: "conflict",
        message: `the mentor is currently ${state}; a ${type} event would contradict that`,
      };
    }
    if (event.state !== "delivered") await dispatchDue({ mentorId });
    const after = await getEvent(sql, event.eventId);
    return { kind: "ok", result: toResult(after ?? event) };
  }

  return {
    syncCertificationExpired: (mentorId) => syncMentor(mentorId, "certification.expired"),
    syncCertificationRenewed: (mentorId) => syncMentor(mentorId, "certification.renewed"),
    sendWebhook,
    getSyncStatus: (mentorId) => fetchSyncStatus(sql, mentorId),
    dispatchDue,
    requeueFailed: async (mentorId) => (await requeueFailedEvents(sql, { mentorId })).length,
  };
}
