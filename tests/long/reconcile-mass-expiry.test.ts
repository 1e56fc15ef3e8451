// The scale: 10,000 certifications expire at once while the sandbox silently drops 5 % of the
// removals (answers 204, applies nothing). One sync-reconcile run finds every lost removal in a
// couple of page reads, and after the corrective events are delivered the database and the
// sandbox agree for every mentor.
import { expect, it } from "vitest";
import { createLogger } from "../../shared/logger.ts";
import { reconcileListings } from "../../shared/reconcile.ts";
import { dynamicsClientFor, reconcileSettings } from "../../shared/runtime.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";
import {
  createDispatcher,
  dispatchConfig,
  drain,
  expireMentors,
  useDispatchFixture,
} from "../reliability/dispatch-harness.ts";

const fx = useDispatchFixture();
const MENTORS = 10_000;
const LOST = MENTORS / 20;

it(`${MENTORS} expiries, ${LOST} silently lost: one run finds them all in a few page reads`, async () => {
  const config = dispatchConfig(fx.db.url, fx.sandbox, { SYNC_BATCH_SIZE: "500" });
  const dispatcher = createDispatcher(config, fx.db.sql, "reconcile-long");
  const mentors = await seedMentorsWithPendingEvents(fx.db.sql, MENTORS);
  await drain(fx.db.sql, [dispatcher], { timeoutMs: 240_000 });
  await fx.sandbox.control.faults({
    kind: "silent_loss",
    every: 20,
    count: LOST,
    eventType: "certification.expired",
  });
  await expireMentors(fx.db.sql, mentors);
  await drain(fx.db.sql, [dispatcher], { timeoutMs: 240_000 });
  expect((await fx.sandbox.control.counters()).silentlyDropped).toBe(LOST);
  const stillListed = () =>
    [...fx.sandbox.state.listings.values()].filter((l) => l.listing === "listed").length;
  expect(stillListed()).toBe(LOST);

  const outcome = await reconcileListings({
    sql: fx.db.sql,
    client: dynamicsClientFor(config),
    log: createLogger("silent"),
    ...reconcileSettings(config),
  });
  expect(outcome.kind).toBe("ran");
  const run = outcome.kind === "ran" ? outcome.run : null;
  console.log(JSON.stringify({ reconcile: run }));
  // 10,000 listings at Dataverse's 5,000-row page: two reads, not 10,000.
  expect(run).toMatchObject({
    status: "done",
    checked: MENTORS,
    drift: LOST,
    enqueued: LOST,
    requests: 2,
  });

  await drain(fx.db.sql, [dispatcher], { timeoutMs: 240_000 });
  const ours = await fx.db.sql<{ mentor_id: string; listed: boolean }[]>`
    select mentor_id, listed from public.mentor_listing_state
     where mentor_id = any(${mentors}::uuid[])`;
  const disagree = ours.filter((r) =>
    (fx.sandbox.state.listings.get(r.mentor_id)?.listing === "listed") !== r.listed
  );
  expect(ours).toHaveLength(MENTORS);
  expect(disagree).toEqual([]);
  expect(stillListed()).toBe(0);
});
