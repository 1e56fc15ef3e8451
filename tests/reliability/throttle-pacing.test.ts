// Issue 14: under a Dataverse-style throttle the dispatcher paces itself instead of being refused.
// 200 events through the real sync service and Dynamics client against the sandbox throttled to
// 20 requests per sliding 500 ms (ten windows' worth): every event is delivered, none dead-lettered,
// and 429s stay at most one per window (the client learns the window from the first one; before
// this change nearly half the requests were refused). Counts only: no timing is asserted.
import { expect, it } from "vitest";
import {
  auditFigures,
  consistencyProblems,
  createDispatcher,
  dispatchConfig,
  drain,
  useDispatchFixture,
} from "./dispatch-harness.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const fixture = useDispatchFixture();

const EVENTS = 200;
const LIMIT = 20;
const WINDOW_MS = 500;

it(
  "paces itself under a sliding-window throttle: all delivered, at most one 429 a window",
  async () => {
    const { db, sandbox } = fixture;
    const mentorIds = await seedMentorsWithPendingEvents(db.sql, EVENTS);
    await sandbox.control.throttle(LIMIT, WINDOW_MS);
    // A generous attempt timeout: on a loaded machine the 1 s of the fast settings times out
    // requests the sandbox then admits, and an unanswered request's place is a guess.
    const config = dispatchConfig(db.url, sandbox, { DYNAMICS_ATTEMPT_TIMEOUT_MS: "10000" });
    const dispatcher = createDispatcher(config, db.sql, "pacing");
    const drained = await drain(db.sql, [dispatcher], { timeoutMs: 60_000 });
    const { requests, throttled, delivered, duplicates } = sandbox.state.counters;
    expect({
      problems: await consistencyProblems(db.sql, sandbox.state, mentorIds),
      audit: await auditFigures(db.sql, mentorIds),
      deadLettered: drained.failed,
      delivered,
      requests,
    }).toEqual({
      problems: [],
      audit: {
        events: EVENTS,
        delivered: EVENTS,
        superseded: 0,
        attemptRows: requests,
        timedOut: 0,
      },
      deadLettered: 0,
      delivered: EVENTS,
      // An attempt that timed out after it was applied is sent again: a duplicate, not a loss.
      requests: EVENTS + duplicates + throttled,
    });
    expect(throttled).toBeLessThanOrEqual(EVENTS / LIMIT);
  },
  90_000,
);
