// The forgery, with the real database behind it: dynamics-webhook deployed with only the
// injected SUPABASE_DB_URL (no DYNAMICS_INBOUND_SECRETS) gets an event signed with the secret the
// README publishes. It answers 503 misconfigured and nothing is written, nor any connection opened.
import { describe, expect, it } from "vitest";
import * as dynamicsWebhook from "../../functions/dynamics-webhook/app.ts";
import { bootFunction } from "../../shared/serve.ts";
import { WELL_KNOWN_LOCAL_SECRETS } from "../../shared/well-known-secrets.ts";
import { useTestDatabase } from "../support/db.ts";
import { createListedMentor } from "../support/factories.ts";
import { signedDelivery, writeCounts } from "../support/inbound-delivery.ts";
import { listingChanged } from "../support/payload-factory.ts";

const db = useTestDatabase();

const connections = async () =>
  (await db().sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where application_name = 'hlf-dynamics-sync'`)[
    0
  ]
    .n;

describe("dynamics-webhook without inbound secrets", () => {
  it.each([
    ["unset", {}],
    ["the published local value", {
      DYNAMICS_INBOUND_SECRETS: WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_INBOUND_SECRET,
    }],
  ])(
    "with DYNAMICS_INBOUND_SECRETS %s, a forged event is 503 and writes nothing",
    async (_, env) => {
      const { mentorId } = await createListedMentor(db().sql);
      const handler = bootFunction(
        { name: "dynamics-webhook", ...dynamicsWebhook },
        { SUPABASE_DB_URL: db().url, ...env },
        () => {},
      );
      const before = await writeCounts(db().sql);
      const connectionsBefore = await connections();
      // A drift event: accepted, it would write a ledger row, a sync issue and a corrective event.
      const forged = await signedDelivery(
        listingChanged({ mentorId, listing: "unlisted", changedBy: "attacker" }),
        { secret: WELL_KNOWN_LOCAL_SECRETS.DYNAMICS_INBOUND_SECRET },
      );
      const res = await handler(new Request("http://f/dynamics-webhook", forged));
      expect(res.status).toBe(503);
      expect((await res.json()).error).toMatchObject({
        code: "misconfigured",
        variable: "DYNAMICS_INBOUND_SECRETS",
      });
      expect(await writeCounts(db().sql)).toEqual(before);
      expect(await connections()).toBe(connectionsBefore);
    },
  );
});
