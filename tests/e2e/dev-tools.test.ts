// The developer tools against a stack the test starts: `npm run trigger` commits a change that the
// running stack delivers to the sandbox, and `npm run send-inbound` posts a signed inbound event
// that the gateway's dynamics-webhook accepts and applies.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListedMentor } from "../support/factories.ts";
import { eventually, startTestStack, type TestStack } from "../support/stack.ts";

const run = promisify(execFile);
let t: TestStack;

beforeAll(async () => {
  // The scheduler on: the stack delivers on its own, as under `npm start`.
  t = await startTestStack({ scheduler: true });
});
afterAll(async () => {
  await t?.close();
});

/** `npm run NAME -- ...args` with the environment pointing at the test stack. */
async function npmRun(name: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout } = await run("npm", ["run", "--silent", name, "--", ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: t.db.url,
        SUPABASE_URL: t.stack.gatewayUrl,
        DYNAMICS_INBOUND_SECRETS: t.stack.config.inbound.secrets![0],
        ...env,
      },
    });
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sandboxListing = (mentorId: string) =>
  eventually(async () => (await t.sandbox.listing(mentorId))?.listing);

describe("npm run trigger", () => {
  it("expires and renews a mentor; the running stack delivers each change", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    await eventually(async () => (await sandboxListing(mentorId)) === "listed" ? true : undefined);

    const expired = await npmRun("trigger", ["expired", mentorId]);
    expect(expired.code).toBe(0);
    expect(expired.stdout).toMatch(/sync event \S+ certification\.expired: delivered/);
    expect(await sandboxListing(mentorId)).toBe("unlisted");

    const renewed = await npmRun("trigger", ["renewed", mentorId]);
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).toMatch(/sync event \S+ certification\.renewed: delivered/);
    expect(await sandboxListing(mentorId)).toBe("listed");
    const [cert] = await t.db.sql`
      select status, jsonb_array_length(renewal_history) as renewals from public.certifications
      where mentor_id = ${mentorId}`;
    expect(cert).toEqual({ status: "active", renewals: 1 });

    // A second renewal of a listed mentor is news to Dynamics too (a new expiry date and renewal
    // entry): every renewal is delivered, not only the one that relists.
    const again = await npmRun("trigger", ["renewed", mentorId]);
    expect(again.stdout).toMatch(/sync event \S+ certification\.renewed: delivered/);
  });

  it("rejects bad arguments with a usage message and exit code 2", async () => {
    const bad = await npmRun("trigger", ["deleted", "not-a-uuid"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Usage: npm run trigger/);
  });
});

describe("npm run send-inbound", () => {
  it("posts a signed listing.changed that is accepted as drift and corrected", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const sent = await npmRun("send-inbound", [
      "listing.changed",
      mentorId,
      "--listing",
      "unlisted",
    ]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^200 .*"status":"accepted"/m);
    const [issue] = await t.db.sql`
      select kind, detail->>'portalListing' as portal, event_id from public.sync_issues
      where mentor_id = ${mentorId}`;
    expect(issue).toMatchObject({ kind: "drift", portal: "unlisted" });
    // The corrective event re-asserts the listing, delivered by the running stack.
    await eventually(async () => {
      const [e] = await t.db.sql`
        select state from public.sync_events where event_id = ${issue.event_id}`;
      return e.state === "delivered" ? true : undefined;
    });
    const [ledger] = await t.db.sql`
      select signature_scheme, status from public.cert_notification_log where mentor_id = ${mentorId}`;
    expect(ledger.status).toBe("applied");
  });

  it("posts a listing.confirmed for the mentor's latest event, which marks it confirmed", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const [event] = await t.db.sql<{ event_id: string }[]>`
      select event_id from public.sync_events where mentor_id = ${mentorId}`;
    const sent = await npmRun("send-inbound", ["listing.confirmed", mentorId]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/listing\.confirmed \S+ \(listing listed\)/);
    const [row] = await t.db.sql`
      select confirmed_at is not null as confirmed from public.sync_events
      where event_id = ${event.event_id}`;
    expect(row.confirmed).toBe(true);
  });

  it("fails with exit code 1 when the gateway refuses the signature", async () => {
    const { mentorId } = await createListedMentor(t.db.sql);
    const { code, stdout } = await npmRun("send-inbound", ["listing.changed", mentorId], {
      DYNAMICS_INBOUND_SECRETS: "not-the-configured-secret",
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^401 /m);
  });
});
