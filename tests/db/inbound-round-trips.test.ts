// Issue 14, target 4: an inbound delivery costs one statement, so one round trip, whether it is
// applied or a duplicate (the ledger insert and its effect are one statement, inbound-service.ts).
import type postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../../functions/dynamics-webhook/app.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";
import { inProcessRuntime, signedDelivery } from "../support/inbound-delivery.ts";
import { listingChanged } from "../support/payload-factory.ts";
import { countingClient, RoundTrips } from "../support/round-trips.ts";

let db: TestDatabase;
const trips = new RoundTrips();
let counted: postgres.Sql;
let app: ReturnType<typeof createApp>;
let mentorId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  mentorId = (await createListedMentor(db.sql)).mentorId;
  counted = countingClient(db.url, trips);
  app = createApp(inProcessRuntime({ ...db, sql: counted }).runtime);
});
afterAll(async () => {
  await counted?.end({ timeout: 5 });
  await db?.close();
});

it("a delivery and its replay are one round trip each", async () => {
  const delivery = await signedDelivery(listingChanged({ mentorId, listing: "unlisted" }));
  await counted`select 1`; // connected, types fetched
  for (const expected of ["accepted", "duplicate"]) {
    const before = trips.count;
    const res = await app.request("/dynamics-webhook", delivery);
    expect(await res.json()).toMatchObject({ status: expected });
    expect(trips.count - before).toBe(1);
  }
  // The drift it reported was applied by that one statement: the ledger row and the sync issue.
  const [row] = await db.sql<{ issues: number }[]>`
    select count(*)::int as issues from public.sync_issues where mentor_id = ${mentorId}`;
  expect(row.issues).toBe(1);
});
