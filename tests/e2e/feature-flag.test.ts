// DYNAMICS_SYNC_ENABLED=false queues events as held and sends nothing; turning it on and calling
// sync-retry replays them in order. Two stacks over one database stand for the redeploy in between.
import { expect, it } from "vitest";
import { useTestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";
import { startTestStack } from "../support/stack.ts";

const db = useTestDatabase();

it("holds events while the flag is off and replays them in order once it is on", async () => {
  const mentors = [];
  for (let i = 0; i < 3; i++) mentors.push(await createListedMentor(db().sql));
  await db().sql`update public.certifications set status = 'expired'
    where id = ${mentors[0].certificationId}`;
  await db().sql`update public.peer_mentors set status = 'paused' where id = ${
    mentors[1].mentorId
  }`;

  const off = await startTestStack({ db: db(), env: { DYNAMICS_SYNC_ENABLED: "false" } });
  try {
    const { data, error } = await off.client().functions.invoke("sync-retry", { body: {} });
    expect(error).toBeNull();
    expect(data).toMatchObject({ held: 3, delivered: 0, claimed: 0 });
    const direct = await off.client().functions.invoke("certification-expired", {
      body: { mentorId: mentors[0].mentorId },
    });
    expect(direct.data).toMatchObject({ eventType: "certification.expired", state: "held" });
    expect((await off.sandbox.counters()).requests).toBe(0);
    const states = await db().sql`select distinct state from public.mentor_sync_status`;
    expect(states).toEqual([{ state: "held" }]);
  } finally {
    await off.close();
  }

  const on = await startTestStack({ db: db() });
  try {
    const { data } = await on.client().functions.invoke("sync-retry", { body: {} });
    expect(data).toMatchObject({ released: 3, delivered: 3 });
    // Each mentor's events arrive in their order; different mentors are delivered in parallel.
    const applied = await on.sandbox.events();
    const expected = await db().sql<{ event_id: string; mentor_id: string }[]>`
      select event_id, mentor_id from public.sync_events where state <> 'superseded' order by id`;
    for (const { mentorId } of mentors) {
      expect(applied.filter((e) => e.mentorId === mentorId).map((e) => e.eventId))
        .toEqual(expected.filter((e) => e.mentor_id === mentorId).map((e) => e.event_id));
    }
    expect(applied).toHaveLength(expected.length);
    const listings = Object.fromEntries(
      (await on.sandbox.listings()).map((l) => [l.mentorId, l.listing]),
    );
    expect(listings).toEqual({
      [mentors[0].mentorId]: "unlisted",
      [mentors[1].mentorId]: "unlisted",
      [mentors[2].mentorId]: "listed",
    });
  } finally {
    await on.close();
  }
});
