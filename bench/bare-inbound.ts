// The baseline for scenario 4, run under Deno like the functions (with the heap a deployed function
// gets): Deno.serve plus postgres.js doing only the ledger insert `dynamics-webhook` does (no
// signature check, no validation, no effect).
// What the product costs on top of this is the price of verification and applying the event.
// Same configuration as the functions (shared/config.ts); the port comes as `--port=N`.
import { configured, loadConfig, readEnvironment } from "../shared/config.ts";
import { createSql } from "../shared/db.ts";

const sql = createSql(configured(loadConfig(readEnvironment(), ["database"]).database, "database"));
const port = Number(Deno.args.find((a) => a.startsWith("--port="))?.slice("--port=".length) ?? 0);

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.log(JSON.stringify({ event: "bare_listening", port })),
}, async (req) => {
  // The starter's readiness probe.
  if (req.method !== "POST") return new Response(null, { status: 204 });
  const event = await req.json();
  // Errors surface as 500s in the load figures, as the product's would.
  const inserted = await sql`
    insert into public.cert_notification_log (event_id, event_type, mentor_id, signature_scheme, payload,
      status)
    values (${event.eventId}, ${event.eventType}, ${event.mentorId}, 'bare', ${sql.json(event)},
      'ignored')
    on conflict (event_id) do nothing
    returning id`;
  return Response.json({
    status: inserted.count === 1 ? "accepted" : "duplicate",
    eventId: event.eventId,
  });
});
