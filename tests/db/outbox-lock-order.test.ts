// Regression (real Postgres; PGlite is one session): grouped inbound confirmations and the
// dispatcher's batched result writes both update several outbox rows in one statement. Each locked
// them in the order of its own input, so a confirmation group and a result write over the same
// events deadlocked (bench scenario 2: `sync-retry` answered 500 on 40P01). Both now lock in id order.
import { expect, it } from "vitest";
import { receiveInbound } from "../../shared/inbound-service.ts";
import { claimDueEvents, finishRounds } from "../../shared/outbox/sync-queries.ts";
import { configuredEngine, useTestDatabase } from "../support/db.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";
import { listingConfirmed } from "../support/payload-factory.ts";
import { shuffled } from "../support/shuffled.ts";

const EVENTS = 40;
const ROUNDS = 15;
const db = useTestDatabase();

it.runIf(configuredEngine() === "postgres")(
  "confirmation groups and result writes over the same events never deadlock",
  async () => {
    await seedMentorsWithPendingEvents(db().sql, EVENTS);
    const events = await claimDueEvents(db().sql, {
      owner: "lock-order",
      leaseSeconds: 600,
      limit: EVENTS,
    });
    expect(events).toHaveLength(EVENTS);
    const writer = db().connect({ max: 4 });
    const inbound = db().connect({ max: 4 });
    for (let round = 0; round < ROUNDS; round++) {
      // Two of each at once, every one over all the events in an order of its own.
      await Promise.all([
        ...[0, 1].map((k) =>
          finishRounds(
            writer,
            "lock-order",
            shuffled(events, 4 * round + k + 1).map((event) => ({
              event,
              attempts: [],
              finish: {
                state: "retrying",
                nextAttemptAt: new Date(),
                error: "x",
                code: "x",
                status: 503,
                refused: true,
              },
            })),
          )
        ),
        ...[0, 1].map((k) =>
          receiveInbound(
            inbound,
            shuffled(events, 4 * round + k + 3).map((e) => ({
              event: listingConfirmed({ mentorId: e.mentorId, inReplyTo: e.eventId }),
              scheme: "standard-webhooks",
            })),
          )
        ),
      ]);
    }
    const [{ confirmed }] = await db().sql<{ confirmed: number }[]>`
      select count(*)::int as confirmed from public.sync_events where confirmed_at is not null`;
    expect(confirmed).toBe(EVENTS);
  },
);
