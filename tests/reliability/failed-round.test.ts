// Regression: a dispatch round that failed kept sending. The round's remaining deliveries went on in
// the background after its result write had failed and the round had rejected; the worker started
// the next round meanwhile, leases expired under the orphaned deliveries, and two rounds sent and
// audited the same event (the long crash test's "attempts 1, audit rows 2", CI, Postgres). A failed
// round now starts nothing more: only the rounds in flight when it failed still reach Dynamics.
import { expect, it } from "vitest";
import { createDispatcher, dispatchConfig, useDispatchFixture } from "./dispatch-harness.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const fixture = useDispatchFixture();
const EVENTS = 40;

it("a round whose result write fails sends nothing after it has failed", async () => {
  const { db, sandbox } = fixture;
  await seedMentorsWithPendingEvents(db.sql, EVENTS);
  // The second result write fails (a sequence, so the count survives the failed transaction).
  await db.sql.unsafe(`
    create sequence test_result_writes;
    create function test_fail_second_result_write() returns trigger language plpgsql as $$
    begin
      if nextval('test_result_writes') = 2 then raise exception 'injected result-write failure'; end if;
      return null;
    end $$;
    create trigger test_fail_second_result_write before insert on public.dynamics_sync_attempts
      for each statement execute function test_fail_second_result_write();`);
  try {
    const config = dispatchConfig(db.url, sandbox, { SYNC_CONCURRENCY: "4" });
    const dispatcher = createDispatcher(config, db.sql, "failed-round");
    await expect(dispatcher.dispatchDue()).rejects.toThrow("injected result-write failure");
    const sentWhenRejected = sandbox.state.counters.requests;
    // Anything still starting would reach the sandbox within milliseconds; give it far longer.
    await new Promise((r) => setTimeout(r, 300));
    // At most the three other rounds in flight at the failure were still to arrive.
    expect(sandbox.state.counters.requests).toBeLessThanOrEqual(sentWhenRejected + 3);
    expect(sandbox.state.counters.requests).toBeLessThan(EVENTS / 2);
  } finally {
    await db.sql.unsafe(`
      drop trigger test_fail_second_result_write on public.dynamics_sync_attempts;
      drop function test_fail_second_result_write();
      drop sequence test_result_writes;`);
  }
});
