// Operations against a real database and the sandbox: the pause switch row (held while paused,
// replayed in order on resume, attributed), alerts (dead letter under RLS and posted once to an
// alert webhook stand-in, outage raised past the threshold and resolved when Dynamics answers, 410
// Gone pausing delivery) and the health snapshot.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkAlerts } from "../../shared/alerts.ts";
import type { Config } from "../../shared/config.ts";
import { fetchHealth, toPrometheus } from "../../shared/health.ts";
import { createLogger } from "../../shared/logger.ts";
import { asRole, claims } from "../support/db.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
  settleOutbox,
} from "../support/factories.ts";
import {
  createDispatcher,
  dispatchConfig,
  drain,
  expireMentors,
  useDispatchFixture,
} from "./dispatch-harness.ts";

const fx = useDispatchFixture();
const log = createLogger("silent");

// The alert webhook stand-in: records every body posted to it.
let alertServer: Server;
let alertUrl: string;
const posted: { text: string }[] = [];
beforeAll(async () => {
  alertServer = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      posted.push(JSON.parse(body));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => alertServer.listen(0, "127.0.0.1", r));
  alertUrl = `http://127.0.0.1:${(alertServer.address() as AddressInfo).port}/hooks/T000/B000`;
});
afterAll(() => new Promise<void>((r) => alertServer.close(() => r())));

beforeEach(async () => {
  await settleOutbox(fx.db.sql);
  await fx.db.sql`delete from public.sync_alerts`;
  await fx.db.sql`delete from public.sync_control`;
  await fx.db.sql`update public.sync_delivery_health set failing_since = null`;
  posted.length = 0;
});

function config(overrides: Record<string, string> = {}): Config {
  return dispatchConfig(fx.db.url, fx.sandbox, { ALERT_WEBHOOK_URL: alertUrl, ...overrides });
}

const alertChecks = (cfg: Config) => checkAlerts({ sql: fx.db.sql, log, alerts: cfg.alerts });

async function alerts(cause: string) {
  return await fx.db.sql<
    { status: string; mentor_id: string | null; count: number; summary: string }[]
  >`select status, mentor_id, count, summary from public.sync_alerts where cause = ${cause}
     order by id`;
}

describe("the pause switch", () => {
  it("pause via the row: nothing sent, held; resume: replayed in order, attributed", async () => {
    const dispatcher = createDispatcher(config(), fx.db.sql, "pause");
    const [{ paused_by, pause_reason, paused_at }] = await fx.db.sql`
      select * from public.pause_sync('Dynamics maintenance window', 'alice@hlf.example')`;
    expect({ paused_by, pause_reason }).toEqual({
      paused_by: "alice@hlf.example",
      pause_reason: "Dynamics maintenance window",
    });
    expect(paused_at).toBeInstanceOf(Date);

    const a = await createListedMentor(fx.db.sql);
    const b = await createListedMentor(fx.db.sql);
    // a's expiry supersedes its undelivered renewal: two events, a's removal and b's listing.
    await expireMentors(fx.db.sql, [a.mentorId]);
    const counts = await dispatcher.dispatchDue();
    expect(counts).toMatchObject({ held: 2, claimed: 0, delivered: 0 });
    expect((await fx.sandbox.control.counters()).requests).toBe(0);
    // A direct call for one mentor is held as well.
    const direct = await dispatcher.syncCertificationRenewed(b.mentorId);
    expect(direct).toMatchObject({ kind: "ok", result: { state: "held" } });
    expect((await fx.sandbox.control.counters()).requests).toBe(0);

    const [resumed] = await fx.db.sql`select * from public.resume_sync('bob@hlf.example')`;
    expect(resumed).toMatchObject({
      paused: false,
      resumed_by: "bob@hlf.example",
      paused_by: "alice@hlf.example",
    });
    const replay = await drain(fx.db.sql, [dispatcher]);
    expect(replay.released).toBe(2);
    const expected = await fx.db.sql<{ event_id: string; mentor_id: string }[]>`
      select event_id, mentor_id from public.sync_events
       where mentor_id in (${a.mentorId}, ${b.mentorId}) and state = 'delivered' order by id`;
    const applied = await fx.sandbox.control.events();
    for (const mentorId of [a.mentorId, b.mentorId]) {
      expect(applied.filter((e) => e.mentorId === mentorId).map((e) => e.eventId))
        .toEqual(expected.filter((e) => e.mentor_id === mentorId).map((e) => e.event_id));
    }
    expect(applied).toHaveLength(2);
  });

  it("the env flag decides only until the row exists", async () => {
    const paused = (enabled: boolean) =>
      fx.db.sql`select public.sync_delivery_paused(${enabled}) as p`.then(([r]) => r.p);
    expect([await paused(true), await paused(false)]).toEqual([false, true]);
    await fx.db.sql`select public.resume_sync('carol')`;
    expect([await paused(true), await paused(false)]).toEqual([false, false]);
    await fx.db.sql`select public.pause_sync('why not', 'carol')`;
    expect([await paused(true), await paused(false)]).toEqual([true, true]);
  });

  it.each(
    [
      ["anon", claims.anon(), false],
      ["authenticated", claims.user("00000000-0000-4000-8000-000000000001"), false],
      ["service_role", claims.service(), true],
    ] as const,
  )("changing it as %s: allowed %s", async (_name, jwt, allowed) => {
    const run = asRole(fx.db.sql, jwt, (tx) => tx`select public.pause_sync('test', null)`);
    if (allowed) await expect(run).resolves.toHaveLength(1);
    else await expect(run).rejects.toMatchObject({ code: "42501" });
    const read = asRole(fx.db.sql, jwt, (tx) => tx`select * from public.sync_control`);
    if (allowed) await expect(read).resolves.toHaveLength(1);
    else await expect(read).rejects.toMatchObject({ code: "42501" });
  });
});

describe("alerts", () => {
  it("dead letter: one open alert, seen by the mentor's coordinators only, posted once", async () => {
    const orgA = await createOrganisation(fx.db.sql);
    const orgB = await createOrganisation(fx.db.sql);
    const chapterA = await createChapter(fx.db.sql, { organisationId: orgA.id });
    const chapterB = await createChapter(fx.db.sql, { organisationId: orgB.id });
    const coordA = await createCoordinator(fx.db.sql, [chapterA.id]);
    const coordB = await createCoordinator(fx.db.sql, [chapterB.id]);
    const mentor = await createListedMentor(fx.db.sql, { chapterIds: [chapterA.id] });
    const cfg = config({ SYNC_MAX_ROUNDS: "1" });
    const dispatcher = createDispatcher(cfg, fx.db.sql, "dead-letter");
    await fx.sandbox.control.faults({ kind: "status", status: 400 });
    await drain(fx.db.sql, [dispatcher]);

    expect(await alerts("dead_letter")).toEqual([
      expect.objectContaining({ status: "open", mentor_id: mentor.mentorId, count: 1 }),
    ]);
    const visible = (userId: string) =>
      asRole(
        fx.db.sql,
        claims.user(userId),
        (tx) => tx`select mentor_id, cause from public.sync_alerts`,
      );
    expect(await visible(coordA.id)).toEqual([
      { mentor_id: mentor.mentorId, cause: "dead_letter" },
    ]);
    expect(await visible(coordB.id)).toEqual([]);

    expect((await alertChecks(cfg)).posted).toEqual({ sent: 1, failed: 0 });
    expect((await alertChecks(cfg)).posted).toEqual({ sent: 0, failed: 0 });
    expect(posted).toHaveLength(1);
    expect(posted[0].text).toContain("dead_letter");
    expect(posted[0].text).toContain(mentor.mentorId);

    // Re-queued and delivered: the alert resolves itself.
    await dispatcher.requeueFailed(mentor.mentorId);
    await drain(fx.db.sql, [dispatcher]);
    expect(await alerts("dead_letter")).toEqual([
      expect.objectContaining({ status: "resolved", count: 1 }),
    ]);
  });

  it("a failing alert endpoint is retried later and never blocks dispatch", async () => {
    const cfg = config({ SYNC_MAX_ROUNDS: "1", ALERT_WEBHOOK_URL: "http://127.0.0.1:9/down" });
    await createListedMentor(fx.db.sql);
    await fx.sandbox.control.faults({ kind: "status", status: 422 });
    await drain(fx.db.sql, [createDispatcher(cfg, fx.db.sql, "alert-down")]);
    expect((await alertChecks(cfg)).posted).toEqual({ sent: 0, failed: 1 });
    const [row] = await fx.db.sql`
      select notify_state, notify_attempts, notify_next_at > now() as later
        from public.sync_alerts where cause = 'dead_letter'`;
    expect(row).toEqual({ notify_state: "pending", notify_attempts: 1, later: true });
  });

  it("outage: one alert once Dynamics has failed longer than the threshold, resolved when back", async () => {
    const cfg = config({ ALERT_OUTAGE_SECONDS: "1", SYNC_RESCHEDULE_BASE_SECONDS: "1" });
    const dispatcher = createDispatcher(cfg, fx.db.sql, "outage");
    await createListedMentor(fx.db.sql);
    await fx.sandbox.control.faults({ kind: "status", status: 503, count: 1_000 });
    await dispatcher.dispatchDue();
    expect((await alertChecks(cfg)).outage).toBe(false);
    const [{ failing_since }] = await fx.db
      .sql`select failing_since from public.sync_delivery_health`;
    expect(failing_since).toBeInstanceOf(Date);

    await new Promise((r) => setTimeout(r, 1_100));
    expect((await alertChecks(cfg)).outage).toBe(true);
    expect((await alertChecks(cfg)).outage).toBe(true);
    expect(await alerts("outage")).toEqual([
      expect.objectContaining({ status: "open", mentor_id: null, count: 2 }),
    ]);
    expect(posted.filter((p) => p.text.includes("outage"))).toHaveLength(1);

    await fx.sandbox.control.reset();
    await drain(fx.db.sql, [dispatcher], { timeoutMs: 10_000 });
    expect(await alerts("outage")).toEqual([expect.objectContaining({ status: "resolved" })]);
    expect((await alertChecks(cfg)).outage).toBe(false);
  });

  it("410 Gone pauses delivery and raises one alert; resuming resolves it", async () => {
    const dispatcher = createDispatcher(config(), fx.db.sql, "gone");
    const first = await createListedMentor(fx.db.sql);
    await fx.sandbox.control.faults({ kind: "status", status: 410 });
    await dispatcher.dispatchDue({ mentorId: first.mentorId });
    const [control] = await fx.db
      .sql`select paused, paused_by, pause_reason from public.sync_control`;
    expect(control).toMatchObject({ paused: true, paused_by: "system: 410 Gone" });
    expect(await alerts("gone")).toEqual([expect.objectContaining({ status: "open", count: 1 })]);

    await createListedMentor(fx.db.sql);
    expect(await dispatcher.dispatchDue()).toMatchObject({ held: 1, claimed: 0 });
    expect((await fx.sandbox.control.counters()).requests).toBe(1);

    await fx.db.sql`select public.resume_sync('operator')`;
    expect(await alerts("gone")).toEqual([expect.objectContaining({ status: "resolved" })]);
    expect(await dispatcher.dispatchDue()).toMatchObject({ released: 1, delivered: 1 });
  });
});

describe("health", () => {
  it("one snapshot of backlog, attempts, pause, reconciliation and alerts; Prometheus text", async () => {
    const cfg = config({ SYNC_MAX_ROUNDS: "1" });
    const dispatcher = createDispatcher(cfg, fx.db.sql, "health");
    await createListedMentor(fx.db.sql);
    await drain(fx.db.sql, [dispatcher]);
    await fx.sandbox.control.faults({ kind: "status", status: 400 });
    await createListedMentor(fx.db.sql);
    await drain(fx.db.sql, [dispatcher]);
    await createListedMentor(fx.db.sql);
    await fx.db.sql`select public.pause_sync('look', 'dave')`;

    const health = await fetchHealth(fx.db.sql, true, "closed");
    expect(health).toMatchObject({
      backlog: { pending: 1, retrying: 0, held: 0, failed: 1 },
      breaker: "closed",
      pause: { paused: true, pausedBy: "dave", reason: "look" },
      openAlerts: { dead_letter: 1 },
    });
    expect(health.lastHour.deliveries).toBeGreaterThanOrEqual(1);
    expect(health.lastHour.failures).toBeGreaterThanOrEqual(1);
    expect(health.lastHour.latencyMsP95).toBeGreaterThanOrEqual(health.lastHour.latencyMsP50!);
    expect(Date.parse(health.lastSuccessAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(health.oldestDueAgeSeconds).toBeGreaterThanOrEqual(0);

    const text = toPrometheus(health);
    expect(text).toContain('hlf_sync_backlog_events{state="failed"} 1');
    expect(text).toContain("hlf_sync_paused 1");
    expect(text).toContain('hlf_sync_open_alerts{cause="dead_letter"} 1');
    expect(text).toContain('hlf_sync_breaker_state{state="closed"} 1');
    for (const line of text.trim().split("\n")) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+-]+)$/);
    }
  });
});
