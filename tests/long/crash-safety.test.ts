// Reliability promise: nothing is lost across crashes of a dispatcher. The standalone dispatcher
// (worker/dispatcher.ts, a Deno process) drains 10,000 events while it is killed with SIGKILL at
// random moments of its progress, ten times, and restarted each time; then every event is
// delivered, the sandbox applied each exactly once (a re-delivery after a crash carried the same
// eventId, so the sandbox recognised it as a duplicate), and the outbox, status rows and sandbox
// agree. A second test kills the dispatcher's database connections instead
// (pg_terminate_backend): real Postgres only, since the embedded PGlite cannot drop one client's
// session in-process.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { spawnDeno } from "../../local/deno-process.ts";
import { eventually } from "../support/stack.ts";
import {
  auditFigures,
  consistencyProblems,
  dispatchEnv,
  openEvents,
  useDispatchFixture,
} from "../reliability/dispatch-harness.ts";
import { configuredEngine } from "../support/db.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

const onPostgres = configuredEngine() === "postgres";

const EVENTS = 10_000;
const CRASHES = 10;
// Leases must outlast the sync service's 5 s safety margin; 6 s lets re-claims come quickly.
const LEASE_SECONDS = "6";

const t = useDispatchFixture();

interface DispatcherProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  lines: string[];
}

/** Starts worker/dispatcher.ts under Deno; resolves once it logged that it started. */
async function startDispatcher(): Promise<DispatcherProcess> {
  const env = dispatchEnv(t.db.url, t.sandbox, {
    SYNC_LEASE_SECONDS: LEASE_SECONDS,
    DB_POOL_MAX: "4",
    LOG_LEVEL: "info",
  });
  const child = spawnDeno("worker/dispatcher.ts", ["--idle-ms=20"], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...env,
  });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  );
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`dispatcher exited:\n${lines.join("\n")}`);
      return Promise.resolve(lines.some((l) => l.includes('"dispatcher started"')) || undefined);
    },
    { timeoutMs: 30_000 },
  );
  return { child, exited, lines };
}

async function killHard(p: DispatcherProcess): Promise<void> {
  p.child.kill("SIGKILL");
  await p.exited;
}

async function delivered(mentorIds: string[]): Promise<number> {
  const [row] = await t.db.sql<{ n: number }[]>`
    select count(*)::int as n from public.sync_events
    where state = 'delivered' and mentor_id = any(${mentorIds}::uuid[])`;
  return row.n;
}

/**
 * Waits until the delivered count passes a random point of the `k`-th of `CRASHES + 1` equal parts
 * of the run, and returns it. Crashes are placed by progress, not by clock: at random moments of
 * 300-2500 ms, a fast machine delivered all 10,000 events before the last kill (CI, 2026-11-24).
 */
async function progressPast(mentorIds: string[], k: number): Promise<number> {
  const part = mentorIds.length / (CRASHES + 1);
  const target = Math.floor(part * k + Math.random() * part);
  return await eventually(async () => {
    const n = await delivered(mentorIds);
    return n >= target ? n : undefined;
  }, { timeoutMs: 120_000, everyMs: 20 });
}

/**
 * Waits for the outbox to empty, then stops the dispatcher with SIGTERM (a clean exit). When it
 * does not empty, the failure says what was left and what the dispatcher said last (it hung once in
 * CI, 2026-11-23, and did not again in six local runs).
 */
async function finish(p: DispatcherProcess, timeoutMs: number): Promise<void> {
  try {
    await eventually(async () => ((await openEvents(t.db.sql)) === 0 ? true : undefined), {
      timeoutMs,
      everyMs: 250,
    });
  } catch (error) {
    // Not left running against a database the fixture drops.
    p.child.kill("SIGKILL");
    const left = await t.db.sql`
      select state, lease_owner is not null as leased, count(*)::int as n from public.sync_events
       where state in ('pending', 'retrying', 'held') group by 1, 2`;
    throw new Error(
      `${error}; open events ${
        JSON.stringify(left)
      }; dispatcher exit ${p.child.exitCode} ${p.child.signalCode}; its last lines:\n${
        p.lines.slice(-30).join("\n")
      }`,
    );
  }
  p.child.kill("SIGTERM");
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(p.lines.some((l) => l.includes('"dispatcher stopped"'))).toBe(true);
}

/** Nothing lost, each event applied once by the sandbox, every view consistent. */
async function expectNothingLost(mentorIds: string[]): Promise<void> {
  expect(await delivered(mentorIds)).toBe(mentorIds.length);
  const { delivered: applied, requests, duplicates } = t.sandbox.state.counters;
  // Applied once per eventId: a re-delivery after a crash came with the same eventId.
  expect(applied).toBe(mentorIds.length);
  expect(t.sandbox.state.events.length).toBe(mentorIds.length);
  expect(requests).toBeGreaterThanOrEqual(applied + duplicates);
  expect(await consistencyProblems(t.db.sql, t.sandbox.state, mentorIds)).toEqual([]);
}

describe("dispatcher crashes", () => {
  it(`SIGKILL at random moments, ${CRASHES} times, over ${EVENTS} events: none lost`, async () => {
    const mentorIds = await seedMentorsWithPendingEvents(t.db.sql, EVENTS);
    const killedAt: { passed: number; delivered: number }[] = [];
    for (let crash = 0; crash < CRASHES; crash++) {
      const p = await startDispatcher();
      const passed = await progressPast(mentorIds, crash);
      await killHard(p);
      killedAt.push({ passed, delivered: await delivered(mentorIds) });
    }
    const last = await startDispatcher();
    await finish(last, 240_000);
    await expectNothingLost(mentorIds);
    const { duplicates, requests } = t.sandbox.state.counters;
    const { attemptRows } = await auditFigures(t.db.sql, mentorIds);
    // Attempts in flight at a kill reached the sandbox but died before being audited.
    console.log(JSON.stringify({ crashes: killedAt, duplicates, requests, attemptRows }));
    // The kills landed mid-run: work was still left after the last one.
    expect(killedAt.at(-1)!.delivered).toBeLessThan(EVENTS);
  });

  it.runIf(onPostgres)(
    `database connections killed ${CRASHES} times mid-batch: the worker recovers, none lost`,
    async () => {
      const mentorIds = await seedMentorsWithPendingEvents(t.db.sql, EVENTS / 2);
      const p = await startDispatcher();
      let terminated = 0;
      for (let crash = 0; crash < CRASHES; crash++) {
        await progressPast(mentorIds, crash);
        const rows = await t.db.sql`
          select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and application_name like 'hlf-dynamics-sync%'`;
        terminated += rows.length;
      }
      await finish(p, 240_000);
      await expectNothingLost(mentorIds);
      expect(terminated).toBeGreaterThanOrEqual(CRASHES);
      // The worker saw the failures, logged them and carried on (no restart happened).
      expect(p.lines.filter((l) => l.includes('"dispatch round failed"')).length)
        .toBeGreaterThan(0);
      console.log(JSON.stringify({ terminated, duplicates: t.sandbox.state.counters.duplicates }));
    },
  );
});
