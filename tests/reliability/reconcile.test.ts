// Reconciliation against the sandbox's listings collection: silent losses, portal edits behind our
// back, mentors unknown to us and mentors the portal lacks are all found and corrected through the
// outbox; a run resumes at its cursor across invocations; a failed read is recorded, not hidden.
import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/sync-reconcile/app.ts";
import { createCallerVerifier } from "../../shared/http/jwt.ts";
import type { Runtime } from "../../shared/runtime.ts";
import type { Config } from "../../shared/config.ts";
import { createLogger } from "../../shared/logger.ts";
import { reconcileListings } from "../../shared/reconcile.ts";
import { ReconcileRun } from "../../shared/contract/api.ts";
import { dynamicsClientFor, reconcileSettings } from "../../shared/runtime.ts";
import {
  createListedMentor,
  seedMentorsWithPendingEvents,
  settleOutbox,
} from "../support/factories.ts";
import {
  consistencyProblems,
  createDispatcher,
  dispatchConfig,
  drain,
  expireMentors,
  useDispatchFixture,
} from "./dispatch-harness.ts";

const fx = useDispatchFixture();

const SERVICE_KEY = "sb_secret_reconcile_test_key";

function config(overrides: Record<string, string> = {}): Config {
  return dispatchConfig(fx.db.url, fx.sandbox, overrides);
}

async function reconcile(cfg: Config = config()): Promise<ReconcileRun> {
  const outcome = await reconcileListings({
    sql: fx.db.sql,
    client: dynamicsClientFor(cfg),
    log: createLogger("silent"),
    ...reconcileSettings(cfg),
  });
  if (outcome.kind !== "ran") throw new Error("reconciliation was busy");
  return outcome.run;
}

async function sandboxListing(): Promise<Map<string, string>> {
  return new Map((await fx.sandbox.control.listings()).map((l) => [l.mentorId, l.listing]));
}

async function disagreements(mentorIds: readonly string[]): Promise<string[]> {
  const ours = await fx.db.sql<{ mentor_id: string; listed: boolean }[]>`
    select mentor_id, listed from public.mentor_listing_state
     where mentor_id = any(${mentorIds as string[]}::uuid[])`;
  const theirs = await sandboxListing();
  return ours.filter((r) => (theirs.get(r.mentor_id) === "listed") !== r.listed)
    .map((r) => r.mentor_id);
}

async function openAlerts(cause: string) {
  return await fx.db.sql<{ count: number; details: Record<string, number> }[]>`
    select count, details from public.sync_alerts where cause = ${cause} and status = 'open'`;
}

describe("sync-reconcile against the portal's listings", () => {
  it(
    "a mass expiry with 5 % of removals silently lost agrees everywhere after one run",
    async () => {
      const mentors = await seedMentorsWithPendingEvents(fx.db.sql, 1_000);
      const dispatcher = createDispatcher(config(), fx.db.sql, "reconcile-mass");
      await drain(fx.db.sql, [dispatcher]);
      await fx.sandbox.control.faults({
        kind: "silent_loss",
        every: 20,
        count: 50,
        eventType: "certification.expired",
      });
      await expireMentors(fx.db.sql, mentors);
      await drain(fx.db.sql, [dispatcher]);
      expect(await disagreements(mentors)).toHaveLength(50);

      const run = await reconcile(config({ RECONCILE_PAGE_SIZE: "250" }));
      expect(run).toMatchObject({
        status: "done",
        checked: 1_000,
        drift: 50,
        enqueued: 50,
        unknown: 0,
        pages: 4,
        requests: 4,
        error: null,
      });
      expect(await openAlerts("drift")).toEqual([
        expect.objectContaining({ count: 1, details: expect.objectContaining({ drift: 50 }) }),
      ]);
      await drain(fx.db.sql, [dispatcher]);
      expect(await disagreements(mentors)).toEqual([]);
      // Everything else agrees too; the only trace left is the lost removals themselves, which the
      // outbox recorded as delivered (Dynamics said 204) and the sandbox never applied.
      const problems = await consistencyProblems(fx.db.sql, fx.sandbox.state, mentors);
      expect(problems.filter((p) => !/ is delivered but the sandbox never applied it$/.test(p)))
        .toEqual([]);
      expect(problems).toHaveLength(50);

      // The next run finds nothing, and the drift alert resolves itself.
      expect(await reconcile()).toMatchObject({ status: "done", drift: 0, enqueued: 0 });
      expect(await openAlerts("drift")).toEqual([]);
    },
    120_000,
  );

  it("puts back a listing flipped with the control API, and lists a mentor the portal lacks", async () => {
    await settleOutbox(fx.db.sql);
    await fx.db.sql`delete from public.sync_alerts`;
    const flipped = await createListedMentor(fx.db.sql);
    const lacking = await createListedMentor(fx.db.sql);
    const dispatcher = createDispatcher(config(), fx.db.sql, "reconcile-flip");
    await drain(fx.db.sql, [dispatcher]);
    await expireMentors(fx.db.sql, [flipped.mentorId]);
    await drain(fx.db.sql, [dispatcher]);
    // A portal editor relists the expired mentor; the other mentor's listing was never applied
    // (a reset sandbox: the portal lacks them although we list them).
    await fx.sandbox.control.reset();
    await fx.sandbox.control.setListing(flipped.mentorId, "listed");
    // Listed by the portal, unknown to us: drift we cannot correct with an event.
    const stranger = crypto.randomUUID();
    await fx.sandbox.control.setListing(stranger, "listed");

    const run = await reconcile();
    expect(run).toMatchObject({ status: "done", drift: 3, enqueued: 2, unknown: 1 });
    const corrective = await fx.db.sql<{ mentor_id: string; event_type: string }[]>`
      select mentor_id, event_type from public.sync_events
       where state = 'pending' order by mentor_id`;
    expect(new Map(corrective.map((e) => [e.mentor_id, e.event_type]))).toEqual(
      new Map([
        [flipped.mentorId, "certification.expired"],
        [lacking.mentorId, "certification.renewed"],
      ]),
    );
    await drain(fx.db.sql, [dispatcher]);
    const listing = await sandboxListing();
    expect(listing.get(flipped.mentorId)).toBe("unlisted");
    expect(listing.get(lacking.mentorId)).toBe("listed");
    expect(await openAlerts("drift")).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ unknown: 1, drift: 3 }) }),
    ]);
  });

  it("leaves alone a mentor whose correction is already on its way", async () => {
    await settleOutbox(fx.db.sql);
    const mentor = await createListedMentor(fx.db.sql);
    // Its renewal is pending, so the portal lacking it is lag, not drift.
    const run = await reconcile();
    expect(run).toMatchObject({ status: "done", inFlight: 1 });
    const [{ n }] = await fx.db.sql<{ n: number }[]>`
      select count(*)::int as n from public.sync_events where mentor_id = ${mentor.mentorId}`;
    expect(n).toBe(1);
  });

  it("resumes at its cursor when a run needs more than one invocation", async () => {
    await settleOutbox(fx.db.sql);
    const mentors = await seedMentorsWithPendingEvents(fx.db.sql, 30);
    await settleOutbox(fx.db.sql);
    // The portal has none of them yet: 30 mentors we list that it lacks.
    const cfg = config({ RECONCILE_PAGE_SIZE: "2", RECONCILE_MAX_PAGES: "1" });
    for (const id of mentors.slice(0, 7)) await fx.sandbox.control.setListing(id, "listed");

    const runs: ReconcileRun[] = [];
    for (let i = 0; i < 10; i++) {
      const run = await reconcile(cfg);
      runs.push(run);
      if (run.status !== "running") break;
    }
    const last = runs[runs.length - 1];
    expect(runs.slice(0, -1).every((r) => r.status === "running" && r.runId === last.runId))
      .toBe(true);
    // 7 listings in pages of 2: 4 pages, one per invocation.
    expect(last).toMatchObject({ status: "done", invocations: 4, pages: 4, checked: 7 });
    // A paused run and a finished one are exactly the published ReconcileRun (no cursor, no
    // lease), as JSON carries them.
    for (const run of [runs[0], last]) {
      expect(ReconcileRun.strict().safeParse(JSON.parse(JSON.stringify(run))).error)
        .toBeUndefined();
    }
    expect(last.finishedAt).not.toBeNull();
    // (Mentors of earlier tests, listed by us, are missing from the reset portal too.)
    expect(last.drift).toBeGreaterThanOrEqual(23);
    expect(last.enqueued).toBe(last.drift);
    const [{ pending }] = await fx.db.sql<{ pending: number }[]>`
      select count(*)::int as pending from public.sync_events
       where state = 'pending' and mentor_id = any(${mentors}::uuid[])`;
    expect(pending).toBe(23);
  });

  it("two invocations never work on one run: the second is told it is busy", async () => {
    const [first] = await fx.db.sql`select id from public.begin_reconcile_run(60)`;
    expect(first).toBeDefined();
    expect(await fx.db.sql`select id from public.begin_reconcile_run(60)`).toHaveLength(0);
    await fx.db.sql`select public.finish_reconcile_run(${first.id}, 'test', 0)`;
  });

  it("a read Dynamics refuses fails the run with the reason, never the secret", async () => {
    const cfg = config({ DYNAMICS_CLIENT_SECRET: "wrong-secret-Qz81" });
    const run = await reconcile(cfg);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^token_/);
    expect(run.error).not.toContain("wrong-secret-Qz81");
    const [row] = await fx.db.sql`
      select status, error, finished_at from public.sync_reconcile_runs where id = ${run.runId}`;
    expect(row).toMatchObject({ status: "failed", error: run.error });
    expect(row.finished_at).not.toBeNull();
  });

  it("an unfinished run asks pg_net to call sync-reconcile again", async () => {
    const cfg = config({ RECONCILE_PAGE_SIZE: "1", RECONCILE_MAX_PAGES: "1", LOG_LEVEL: "silent" });
    for (let i = 0; i < 2; i++) await fx.sandbox.control.setListing(crypto.randomUUID(), "listed");
    // pg_net's signature, recording calls; and where the functions are.
    await fx.db.sql.unsafe(`
      create schema net;
      create table net.calls (url text, body jsonb);
      create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
        headers jsonb default '{}', timeout_milliseconds int default 5000) returns bigint
      language sql as $$ insert into net.calls values (url, body) returning 1::bigint $$;
    `).simple();
    await fx.db.sql`
      insert into public.sync_settings (key, value)
      values ('hlf_functions_url', 'http://functions.test/v1'), ('hlf_service_role_key', 'key')`;
    try {
      const runtime: Runtime = {
        config: cfg,
        log: createLogger("silent"),
        sql: fx.db.sql,
        dynamics: dynamicsClientFor(cfg),
        callers: createCallerVerifier({
          authUrl: "http://auth.test/auth/v1",
          jwks: { keys: [] },
          jwksTimeoutMs: 1000,
          jwksCacheSeconds: 60,
          jwtSecret: undefined,
          serviceKeys: [SERVICE_KEY],
        }),
        get sync(): never {
          throw new Error("not used by sync-reconcile");
        },
        close: async () => {},
      };
      const response = await createApp(runtime).request("/sync-reconcile", {
        method: "POST",
        headers: { apikey: SERVICE_KEY, "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: "running", pages: 1 });
      // (Corrective events the page enqueued nudge their own functions too.)
      expect(await fx.db.sql`select url from net.calls where url like '%/sync-reconcile'`).toEqual([
        { url: "http://functions.test/v1/sync-reconcile" },
      ]);
    } finally {
      await fx.db.sql`drop schema net cascade`;
      await fx.db.sql`delete from public.sync_settings`;
      await fx.db.sql`update public.sync_reconcile_runs set status = 'failed', finished_at = now()
        where status = 'running'`;
    }
  });
});
