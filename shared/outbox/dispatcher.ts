// The outbox dispatcher: claim due events under a lease, build each payload, sign and send it
// through the Dynamics client, and record the round (attempts, then the event's next state) in
// batches. What a failed round becomes is reschedule.ts's decision; this module only carries it out.
import type { Sql } from "../db.ts";
import type { AttemptRecord, DynamicsClient, SendOutcome } from "../dynamics/dynamics-client.ts";
import type { Logger } from "../logger.ts";
import {
  buildPayloadSkippingInvalid,
  PayloadError,
  toJson,
  type WebhookPayloadV1,
} from "../contract/payload.ts";
import { createOutboundSigner } from "../contract/signer.ts";
import type { EventType } from "../contract/vocabulary.ts";
import { type AttemptTally, createAttemptTally } from "./attempt-summary.ts";
import { mapWithConcurrency } from "./concurrency.ts";
import { cpuAllowance, type CpuMeter, readingCpuMeter } from "./cpu-meter.ts";
import { finishFailedRound, type ReschedulePolicy } from "./reschedule.ts";
import {
  claimDueEvents,
  type ClaimedEvent,
  deliveryPaused,
  type Finish,
  finishRounds,
  holdDueEvents,
  raiseInvalidHistoryIssue,
  releaseHeldEvents,
  type RoundResult,
} from "./sync-queries.ts";
import { createWriteBatcher, type WriteBatcher } from "./write-batcher.ts";

export interface DispatcherOptions {
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
  /**
   * CPU budget of one dispatch call (an edge function's CPU limit, less a margin), counted by
   * `meter`. Without it a call is bounded by wall-clock time only.
   */
  cpu?: { meter: CpuMeter; budgetMs: number };
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
  /** CPU ms the call used by the dispatcher's own meter (0 without one). */
  cpuMs: number;
}

export interface DispatchOptions {
  /** Only this mentor's events: a direct call, which leaves the pause hold/release to the sweep. */
  mentorId?: string;
  budgetMs?: number;
  /** Overrides the CPU budget; Infinity for a caller with no per-request CPU limit (the worker). */
  cpuBudgetMs?: number;
  /** Stop claiming new batches once aborted (a worker shutting down); claimed ones finish. */
  signal?: AbortSignal;
}

export interface SendOptions {
  budgetMs?: number;
  onAttempt?: (a: AttemptRecord) => void;
}

export interface Dispatcher {
  sendWebhook(
    eventType: EventType,
    payload: WebhookPayloadV1,
    opts?: SendOptions,
  ): Promise<{ outcome: SendOutcome; attempts: AttemptRecord[] }>;
  dispatchDue(opts?: DispatchOptions): Promise<DispatchCounts>;
}

const emptyCounts = (): DispatchCounts => ({
  claimed: 0,
  delivered: 0,
  retrying: 0,
  failed: 0,
  held: 0,
  released: 0,
  lostLeases: 0,
  cpuMs: 0,
});

// Leave this much of a lease unused, so a slow round never outlives the lease it writes under; a
// short lease keeps a quarter instead, or it would leave no time to deliver at all. Counted from the
// claim: a batch's last rounds start late (measured: with one budget per round they were sent after
// their lease had run out, and another dispatcher could claim and send the same events).
const LEASE_MARGIN_MS = 5_000;
const leaseBudgetMs = (leaseSeconds: number) =>
  leaseSeconds * 1000 - Math.min(LEASE_MARGIN_MS, leaseSeconds * 250);

// How long a finished round waits for others to be recorded with it. The removal is already applied
// in the portal, so this delays only the round's audit row and the freeing of its place in flight;
// it is long enough that a mass expiry's result writes carry many rounds each (bench scenario 2 on
// Postgres: 2 ms made groups of about 6 and cost Postgres 1.14 ms per delivery, 20 ms 0.80).
const RECORD_DELAY_MS = 20;

// Without a CPU budget the allowance reads a clock that never moves: every batch fits, cpuMs is 0.
const UNMETERED = readingCpuMeter(() => 0);

interface BatchTally {
  /** Rounds the client gave up on before sending anything. */
  refused: number;
  /** Writes a round's result together with those of the deliveries finishing at the same time. */
  record: WriteBatcher<RoundResult, boolean>;
  attempts: AttemptTally;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const { sql, log } = o;
  const sign = createOutboundSigner(o.signingSecret);

  async function sendWebhook(
    eventType: EventType,
    payload: WebhookPayloadV1,
    opts: SendOptions = {},
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
        sign({ id: payload.eventId, body, timestampSeconds: Math.floor(nowMs / 1000) }),
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

  /** The payload of a claimed event; entries the schema rejects are left out and raised as an issue. */
  async function build(event: ClaimedEvent): Promise<WebhookPayloadV1> {
    const built = buildPayloadSkippingInvalid({
      eventId: event.eventId,
      eventType: event.eventType,
      occurredAt: event.createdAt,
      mentorId: event.mentorId,
      certificationStatus: event.certificationStatus,
      expiryDate: event.expiryDate,
      renewalHistory: event.renewalHistory,
    });
    if (built.dropped.length > 0) {
      log.warn("renewal entries left out of the payload", {
        eventId: event.eventId,
        mentorId: event.mentorId,
        issues: built.dropped.length,
      });
      await raiseInvalidHistoryIssue(sql, event, built.dropped);
    }
    return built.payload;
  }

  /**
   * One round of one event, sent only within `deadline` (the call's and the lease's, whichever comes
   * first); null when the lease was lost before its result could be recorded.
   */
  async function deliver(
    event: ClaimedEvent,
    deadline: number,
    batch: BatchTally,
  ): Promise<Finish["state"] | null> {
    let payload: WebhookPayloadV1;
    try {
      payload = await build(event);
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
    const budgetMs = Math.max(0, deadline - now());
    const { outcome, attempts } = await sendWebhook(event.eventType, payload, {
      budgetMs,
      onAttempt: (a) => batch.attempts.add(a.durationMs, a.outcome === "delivered"),
    });
    let finish: Finish;
    if (outcome.ok) {
      finish = { state: "delivered", status: outcome.status };
    } else {
      const round = finishFailedRound(o.policy, {
        error: outcome.error,
        attemptsSent: outcome.attempts,
        rounds: event.rounds,
        createdAt: event.createdAt,
        now: new Date(now()),
        random,
      });
      finish = round.finish;
      if (finish.state === "retrying" && finish.refused) batch.refused += 1;
      if (round.deadLettered) {
        log.warn("sync event dead-lettered", {
          eventId: event.eventId,
          mentorId: event.mentorId,
          reason: round.deadLettered,
          errorCode: outcome.error.code,
        });
      }
    }
    return (await batch.record.add({ event, attempts, finish })) ? finish.state : null;
  }

  async function dispatchDue(opts: DispatchOptions = {}): Promise<DispatchCounts> {
    const counts = emptyCounts();
    // The pause hold/release touches every event, so only a sweep (no mentorId) does it; a direct
    // call while paused sends nothing and leaves its event for the sweep to hold.
    const sweep = opts.mentorId === undefined;
    if (await deliveryPaused(sql, o.enabled)) {
      if (sweep) counts.held = await holdDueEvents(sql);
      return counts;
    }
    if (sweep) counts.released = await releaseHeldEvents(sql);
    const budgetMs = opts.budgetMs ?? o.budgetMs;
    const deadline = now() + budgetMs;
    // A batch claimed in the last moments of the budget could not be sent; leave it for the next call.
    const claimFloorMs = Math.min(5_000, budgetMs / 4);
    const meter = o.cpu?.meter ?? UNMETERED;
    const cpu = cpuAllowance(
      meter,
      opts.cpuBudgetMs ?? o.cpu?.budgetMs ?? Infinity,
      o.batchSize,
    );
    while (deadline - now() > claimFloorMs && !opts.signal?.aborted) {
      const limit = cpu.nextBatchLimit();
      if (limit === 0) break;
      // A batch's CPU includes its pause check and claim: costs that do not shrink with its size.
      const batchCpuStarted = meter.usedMs();
      // Paused meanwhile (by an operator, or by a 410 Gone of this very dispatch): send no more.
      if (counts.claimed > 0 && await deliveryPaused(sql, o.enabled)) {
        if (sweep) counts.held = await holdDueEvents(sql);
        break;
      }
      // Read before claiming, so the lease the database grants ends no earlier than this counts.
      const claimStarted = now();
      const batch = await claimDueEvents(sql, {
        owner: o.owner,
        leaseSeconds: o.leaseSeconds,
        limit,
        mentorId: opts.mentorId,
      });
      if (batch.length === 0) break;
      counts.claimed += batch.length;
      const batchStarted = now();
      // A round that starts late in the batch still ends inside the lease it writes under.
      const batchDeadline = Math.min(deadline, claimStarted + leaseBudgetMs(o.leaseSeconds));
      const tally: BatchTally = {
        refused: 0,
        attempts: createAttemptTally(),
        record: createWriteBatcher(
          (results: RoundResult[]) => finishRounds(sql, o.owner, results),
          { maxItems: o.concurrency, maxDelayMs: RECORD_DELAY_MS, total: batch.length },
        ),
      };
      const states = await mapWithConcurrency(
        batch,
        o.concurrency,
        (e) => deliver(e, batchDeadline, tally),
      );
      const batchCounts = { delivered: 0, retrying: 0, failed: 0, lostLeases: 0 };
      for (const state of states) {
        if (state === null) batchCounts.lostLeases += 1;
        else batchCounts[state] += 1;
      }
      for (const [key, n] of Object.entries(batchCounts)) counts[key as keyof DispatchCounts] += n;
      cpu.batchDone(batch.length, batchCpuStarted);
      log.info("dispatch batch", {
        claimed: batch.length,
        ...batchCounts,
        refused: tally.refused,
        ...tally.attempts.summary(),
        durationMs: now() - batchStarted,
        cpuMs: Math.round(meter.usedMs() - batchCpuStarted),
      });
      // Nothing of this batch went out (breaker open, budget gone): claiming again now would only
      // spin on the same events; the next call picks them up.
      if (tally.refused === batch.length) break;
    }
    counts.cpuMs = Math.round(cpu.spentMs());
    return counts;
  }

  return { sendWebhook, dispatchDue };
}
