// The sync service: the front door the spec names, over the durable outbox. Which module serves
// each spec verb:
//   syncCertificationExpired / syncCertificationRenewed: here (ensure the mentor's event, then a
//     direct dispatch of that mentor through outbox/dispatcher.ts)
//   sendWebhook: outbox/dispatcher.ts (sign and send one payload through the Dynamics client)
//   getSyncStatus: the sync-status function, through status-queries.ts `fetchSyncStatus` run under
//     the caller's row-level security (http/caller-context.ts `callerSql`); it is deliberately
//     not on this service, whose connection bypasses row-level security.
import type { SyncResult } from "./contract/api.ts";
import type { EventType } from "./contract/vocabulary.ts";
import { createDispatcher, type Dispatcher, type DispatcherOptions } from "./outbox/dispatcher.ts";
import {
  enqueueEvent,
  type EventRow,
  getEvent,
  latestEvent,
  mentorListing,
  requeueFailedEvents,
} from "./outbox/sync-queries.ts";

export type SyncServiceOptions = DispatcherOptions;

export type SyncCallResult =
  | { kind: "ok"; result: SyncResult }
  | { kind: "not_found" }
  | { kind: "conflict"; message: string };

export interface SyncService extends Dispatcher {
  syncCertificationExpired(mentorId: string): Promise<SyncCallResult>;
  syncCertificationRenewed(mentorId: string): Promise<SyncCallResult>;
  requeueFailed(mentorId?: string): Promise<number>;
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

export function createSyncService(o: SyncServiceOptions): SyncService {
  const { sql } = o;
  const dispatcher = createDispatcher(o);

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
    if (event.state !== "delivered") await dispatcher.dispatchDue({ mentorId });
    const after = await getEvent(sql, event.eventId);
    return { kind: "ok", result: toResult(after ?? event) };
  }

  return {
    ...dispatcher,
    syncCertificationExpired: (mentorId) => syncMentor(mentorId, "certification.expired"),
    syncCertificationRenewed: (mentorId) => syncMentor(mentorId, "certification.renewed"),
    requeueFailed: async (mentorId) => (await requeueFailedEvents(sql, { mentorId })).length,
  };
}
