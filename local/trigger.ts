// `npm run trigger -- expired|renewed <mentorId>`, like `stripe trigger`: commits the change to the
// running stack's database the way the product sees it (an expiry, or a renewal through
// public.append_certification_renewal), then shows the sync event it caused and how far delivery got.
import type postgres from "postgres";
import { Uuid } from "../shared/contract/validation.ts";
import { usageError, withStackDatabase } from "./cli.ts";

const USAGE = `Usage: npm run trigger -- expired|renewed <mentorId>
  expired   the mentor's certification expires now (the portal should unlist the mentor)
  renewed   the certification is renewed for a year from now (the portal should list the mentor)
Uses the running local stack's database (or DATABASE_URL).`;

const WAIT_MS = 10_000;

const [kind, mentorId, ...extra] = process.argv.slice(2);
if (kind !== "expired" && kind !== "renewed") usageError("expected expired or renewed", USAGE);
if (!mentorId || !Uuid.safeParse(mentorId).success) {
  usageError("expected a mentor id (uuid)", USAGE);
}
if (extra.length > 0) usageError(`unexpected ${extra.join(" ")}`, USAGE);

interface EventRow {
  id: string;
  event_id: string;
  event_type: string;
  state: string;
  attempts: number;
}

async function commitChange(sql: postgres.Sql): Promise<void> {
  const [cert] = await sql<{ id: string }[]>`
    select id from public.certifications where mentor_id = ${mentorId}`;
  if (!cert) throw new Error(`no certification for mentor ${mentorId}`);
  if (kind === "expired") {
    await sql`update public.certifications set status = 'expired' where id = ${cert.id}`;
  } else {
    await sql`select public.append_certification_renewal(${cert.id}::uuid, now(),
      now() + interval '1 year', null)`;
  }
}

const settled = (e: EventRow) => e.state !== "pending";

await withStackDatabase("trigger", async (sql) => {
  const [mark] = await sql<{ id: string }[]>`
    select coalesce(max(id), 0) as id from public.sync_events where mentor_id = ${mentorId}`;
  await commitChange(sql);
  console.log(`committed: certification ${kind} for mentor ${mentorId}`);
  const eventsSince = () =>
    sql<EventRow[]>`
      select id, event_id, event_type, state, attempts from public.sync_events
      where mentor_id = ${mentorId} and id > ${mark.id} order by id desc limit 1`;
  let [event] = await eventsSince();
  if (!event) {
    console.log("no sync event: nothing Dynamics shows changed (already in that state?)");
    return;
  }
  const deadline = Date.now() + WAIT_MS;
  while (!settled(event) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    [event] = await eventsSince();
  }
  console.log(
    `sync event ${event.event_id} ${event.event_type}: ${event.state} after ${event.attempts} attempt(s)`,
  );
});
