// `npm run send-inbound -- listing.changed|listing.confirmed <mentorId> [--listing listed|unlisted]
// [--in-reply-to <eventId>]`: posts an inbound event to the running gateway's dynamics-webhook as
// HLF Dynamics would, signed (both schemes) with the configured inbound secret.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type postgres from "postgres";
import { configured } from "../shared/config.ts";
import { type InboundEventV1, parseInboundEvent } from "../shared/contract/inbound.ts";
import { signatureHeaders } from "../shared/contract/signer.ts";
import { usageError, withStackDatabase } from "./cli.ts";

const USAGE = `Usage: npm run send-inbound -- listing.changed|listing.confirmed <mentorId> [options]
  --listing listed|unlisted  the portal's listing (default: listing.changed the opposite of what
                             the mentor should be, i.e. drift; listing.confirmed what it should be)
  --in-reply-to <eventId>    listing.confirmed: our event it confirms (default: the mentor's latest)
Posts to SUPABASE_URL/functions/v1/dynamics-webhook (the local gateway by default), signed with the
first of DYNAMICS_INBOUND_SECRETS.`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { listing: { type: "string" }, "in-reply-to": { type: "string" } },
  });
} catch (err) {
  usageError((err as Error).message, USAGE);
}
const [eventType, mentorId, ...extra] = parsed.positionals;
if (eventType !== "listing.changed" && eventType !== "listing.confirmed") {
  usageError("expected listing.changed or listing.confirmed", USAGE);
}
if (!mentorId) usageError("expected a mentor id", USAGE);
if (extra.length > 0) usageError(`unexpected ${extra.join(" ")}`, USAGE);
const listingFlag = parsed.values.listing;
if (listingFlag !== undefined && listingFlag !== "listed" && listingFlag !== "unlisted") {
  usageError("--listing expects listed or unlisted", USAGE);
}

/** What the mentor should be listed as, and the mentor's latest event (defaults for the flags). */
async function mentorFacts(sql: postgres.Sql) {
  const [row] = await sql<{ listed: boolean | null; event_id: string | null }[]>`
    select s.listed,
      (select e.event_id from public.sync_events e where e.mentor_id = m.id
        and e.state <> 'superseded' order by e.id desc limit 1) as event_id
    from public.peer_mentors m
    left join public.mentor_listing_state s on s.mentor_id = m.id
    where m.id = ${mentorId}::uuid`;
  if (!row) throw new Error(`no mentor ${mentorId}`);
  return { listed: row.listed ?? false, latestEventId: row.event_id };
}

await withStackDatabase("send-inbound", async (sql, { config, gatewayUrl }) => {
  const facts = await mentorFacts(sql);
  const expected = facts.listed ? "listed" : "unlisted";
  const opposite = facts.listed ? "unlisted" : "listed";
  const common = {
    schemaVersion: 1,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    mentorId,
  };
  const draft = eventType === "listing.confirmed"
    ? {
      ...common,
      eventType,
      listing: listingFlag ?? expected,
      inReplyTo: parsed.values["in-reply-to"] ?? facts.latestEventId,
    }
    : { ...common, eventType, listing: listingFlag ?? opposite, changedBy: "npm run send-inbound" };
  const body = JSON.stringify(draft);
  // The same schema the function checks: a bad id is reported here, not as a 400 from the server.
  const checked = parseInboundEvent(body);
  if (!checked.ok) {
    throw new Error(checked.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
  }
  const event: InboundEventV1 = checked.value;
  const headers = await signatureHeaders({
    id: event.eventId,
    body,
    secret: configured(config.inbound.secrets, "inbound")[0],
    timestampSeconds: Date.now() / 1000,
  });
  const url = `${gatewayUrl}/functions/v1/dynamics-webhook`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const answer = await response.text();
  console.log(`${event.eventType} ${event.eventId} (listing ${event.listing}) -> ${url}`);
  console.log(`${response.status} ${answer}`);
  if (!response.ok) process.exitCode = 1;
});
