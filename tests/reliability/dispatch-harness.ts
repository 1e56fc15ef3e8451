// Shared by the reliability suites: dispatchers built from the real config against a test sandbox,
// bulk fixtures for the outbox, a bounded drain loop, and the consistency audit every suite ends
// with (nothing lost, audit log = requests, sandbox = current state, status rows true).
import type postgres from "postgres";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type Config, loadConfig } from "../../shared/config.ts";
import { LOCAL_PROFILE } from "../../local/env.ts";
import type { DynamicsClient } from "../../shared/dynamics/dynamics-client.ts";
import { createLogger } from "../../shared/logger.ts";
import { dynamicsClientFor, syncServiceFor } from "../../shared/runtime.ts";
import type { DispatchCounts } from "../../shared/outbox/dispatcher.ts";
import type { SyncService } from "../../shared/sync-service.ts";
import type { SandboxState } from "../../local/dynamics-sandbox/state.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  startTestSandbox,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  TEST_SCOPE,
  TEST_SIGNING_SECRET,
  type TestSandbox,
} from "../support/sandbox.ts";

type Sql = postgres.Sql;

/**
 * One migrated test database and one Dynamics sandbox for the calling file: created before all,
 * the sandbox reset before each test, both closed after all.
 */
export function useDispatchFixture(): { readonly db: TestDatabase; readonly sandbox: TestSandbox } {
  let db: TestDatabase | undefined;
  let sandbox: TestSandbox | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    sandbox = await startTestSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
    await db?.close();
  });
  beforeEach(() => sandbox?.control.reset());
  const running = <T>(value: T | undefined): T => {
    if (!value) throw new Error("the dispatch fixture is not running (use it inside a test)");
    return value;
  };
  return {
    get db() {
      return running(db);
    },
    get sandbox() {
      return running(sandbox);
    },
  };
}

/** Tiny backoffs and timeouts so fault paths take milliseconds; no breaker unless a test asks. */
export const FAST_DISPATCH: Record<string, string> = {
  DYNAMICS_MAX_RETRIES: "4",
  DYNAMICS_BACKOFF_BASE_MS: "2",
  DYNAMICS_BACKOFF_CAP_MS: "20",
  DYNAMICS_RETRY_AFTER_CAP_MS: "2000",
  DYNAMICS_ATTEMPT_TIMEOUT_MS: "1000",
  DYNAMICS_CIRCUIT_THRESHOLD: "0",
  SYNC_BATCH_SIZE: "100",
  SYNC_CONCURRENCY: "16",
  SYNC_LEASE_SECONDS: "30",
  SYNC_MAX_ROUNDS: "50",
  SYNC_RESCHEDULE_BASE_SECONDS: "1",
  SYNC_RESCHEDULE_CAP_SECONDS: "2",
  LOG_LEVEL: "silent",
};

/** The environment a dispatcher needs to reach this database and sandbox (also for a child). */
export function dispatchEnv(
  databaseUrl: string,
  sandbox: { webhookUrl: string; tokenUrl: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ...LOCAL_PROFILE,
    DATABASE_URL: databaseUrl,
    DYNAMICS_WEBHOOK_URL: sandbox.webhookUrl,
    DYNAMICS_TOKEN_URL: sandbox.tokenUrl,
    DYNAMICS_CLIENT_ID: TEST_CLIENT_ID,
    DYNAMICS_CLIENT_SECRET: TEST_CLIENT_SECRET,
    DYNAMICS_SCOPE: TEST_SCOPE,
    DYNAMICS_SIGNING_SECRET: TEST_SIGNING_SECRET,
    ...FAST_DISPATCH,
    ...overrides,
  };
}

export function dispatchConfig(...args: Parameters<typeof dispatchEnv>): Config {
  return loadConfig(dispatchEnv(...args), ["database", "outbound"]);
}

/** An in-process dispatcher; by default with its own Dynamics client (token cache, breaker). */
export function createDispatcher(
  config: Config,
  sql: Sql,
  owner: string,
  client: DynamicsClient = dynamicsClientFor(config),
): SyncService {
  return syncServiceFor(config, {
    sql,
    client,
    log: createLogger("silent"),
    owner,
  });
}

export async function expireMentors(sql: Sql, mentorIds: readonly string[]): Promise<void> {
  await sql`
    update public.certifications set status = 'expired'
    where mentor_id = any(${mentorIds as string[]}::uuid[])`;
}

/** Renews these mentors' certifications (one `renewed` event each where they were unlisted). */
export async function renewMentors(sql: Sql, mentorIds: readonly string[]): Promise<void> {
  await sql`
    update public.certifications
    set status = 'active', issued_at = now(), expires_at = now() + interval '1 year'
    where mentor_id = any(${mentorIds as string[]}::uuid[])`;
}

/**
 * Appends `extra` undelivered events to each mentor's outbox after its current one, alternating
 * expired/renewed and ending on the mentor's listed state (so `extra` must be even for a listed
 * mentor). Several undelivered events of one mentor arise in production when a mentor changes while
 * its previous event is leased; written directly here to get thousands of such chains at once.
 */
export async function appendEventChains(
  sql: Sql,
  mentorIds: readonly string[],
  extra: number,
): Promise<void> {
  await sql`
    insert into public.sync_events (mentor_id, event_type, certification_status, expiry_date,
      created_at)
    select m.id,
           case when g % 2 = 1 then 'certification.expired' else 'certification.renewed' end,
           case when g % 2 = 1 then 'expired' else 'active' end,
           c.expires_at,
           clock_timestamp() + make_interval(secs => g / 1000.0)
    from unnest(${mentorIds as string[]}::uuid[]) as m(id)
    join public.certifications c on c.mentor_id = m.id
    cross join generate_series(1, ${extra}) g
    order by m.id, g`;
}

export interface DrainFigures extends DispatchCounts {
  rounds: number;
  elapsedMs: number;
}

const openStates = ["pending", "retrying", "held"];

export async function openEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.sync_events where state = any(${openStates})`;
  return row.n;
}

/**
 * Runs every dispatcher's `dispatchDue` side by side, round after round, until no event is open
 * (pending, retrying, held) or `timeoutMs` passes (then it throws with what is left).
 */
export async function drain(
  sql: Sql,
  dispatchers: readonly SyncService[],
  { timeoutMs = 60_000, idleMs = 25 } = {},
): Promise<DrainFigures> {
  const started = Date.now();
  const totals: Record<string, number> = { rounds: 0 };
  for (;;) {
    const results = await Promise.all(dispatchers.map((d) => d.dispatchDue()));
    totals.rounds += 1;
    for (const counts of results) {
      for (const [key, value] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + value;
    }
    const open = await openEvents(sql);
    if (open === 0) break;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`drain: ${open} events still open after ${timeoutMs} ms`);
    }
    if (results.every((c) => c.claimed === 0)) await new Promise((r) => setTimeout(r, idleMs));
  }
  return { ...totals, elapsedMs: Date.now() - started } as DrainFigures;
}

/** Keeps every dispatcher dispatching side by side until `signal` aborts (background traffic). */
export async function keepDispatching(
  dispatchers: readonly SyncService[],
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    const results = await Promise.all(dispatchers.map((d) => d.dispatchDue({ signal })));
    if (results.every((c) => c.claimed === 0)) await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Mentors whose events the sandbox applied in another order than the outbox's (by id), each with
 * both sequences; empty when per-mentor order held.
 */
export async function orderViolations(
  sql: Sql,
  sandbox: SandboxState,
  mentorIds: readonly string[],
): Promise<string[]> {
  const rows = await sql<{ mentor_id: string; event_ids: string[] }[]>`
    select mentor_id, array_agg(event_id::text order by id) as event_ids
    from public.sync_events
    where mentor_id = any(${mentorIds as string[]}::uuid[]) and state = 'delivered'
    group by mentor_id`;
  const applied = new Map<string, string[]>();
  for (const e of sandbox.events) {
    applied.set(e.mentorId, [...(applied.get(e.mentorId) ?? []), e.eventId]);
  }
  return rows
    .filter((r) => JSON.stringify(applied.get(r.mentor_id)) !== JSON.stringify(r.event_ids))
    .map((r) =>
      `mentor ${r.mentor_id}: outbox ${r.event_ids}, applied ${applied.get(r.mentor_id)}`
    );
}

interface EventFact {
  id: string;
  event_id: string;
  mentor_id: string;
  event_type: string;
  state: string;
  attempts: number;
  audited: number;
  numbered: boolean;
}

/**
 * Every way the outbox, the audit log, the status rows and the sandbox can disagree, for these
 * mentors, as readable lines (empty = consistent):
 * - nothing lost: every event is delivered or superseded, and each delivered eventId was applied;
 * - every attempt audited: `attempts` = audit rows per event, numbered 1..n;
 * - the sandbox lists each mentor as the database says now, from the mentor's newest event;
 * - mentor_sync_status says synced, with that event, its attempts and the right listing.
 */
export async function consistencyProblems(
  sql: Sql,
  sandbox: SandboxState,
  mentorIds: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const events = await sql<EventFact[]>`
    select e.id::text, e.event_id, e.mentor_id, e.event_type, e.state, e.attempts,
           (select count(*)::int from public.dynamics_sync_attempts a
             where a.event_id = e.event_id) as audited,
           coalesce((select bool_and(a.attempt = a.n) from (
             select attempt, row_number() over (order by attempt) as n
             from public.dynamics_sync_attempts a where a.event_id = e.event_id) a), true)
             as numbered
    from public.sync_events e
    where e.mentor_id = any(${mentorIds as string[]}::uuid[])
    order by e.id`;
  const newest = new Map<string, EventFact>();
  for (const e of events) {
    if (e.state !== "delivered" && e.state !== "superseded") {
      problems.push(`event ${e.event_id} (${e.event_type}) left ${e.state}`);
    }
    if (e.state === "delivered" && !sandbox.seenEventIds.has(e.event_id)) {
      problems.push(`event ${e.event_id} is delivered but the sandbox never applied it`);
    }
    if (e.attempts !== e.audited || !e.numbered) {
      problems.push(`event ${e.event_id}: attempts ${e.attempts}, audit rows ${e.audited}`);
    }
    if (e.state !== "superseded") newest.set(e.mentor_id, e);
  }
  const expected = await sql<
    { mentor_id: string; listed: boolean; status: Record<string, unknown> | null }[]
  >`
    select l.mentor_id, l.listed,
           (select to_jsonb(s) from public.mentor_sync_status s where s.mentor_id = l.mentor_id)
             as status
    from public.mentor_listing_state l
    where l.mentor_id = any(${mentorIds as string[]}::uuid[])`;
  for (const { mentor_id: mentorId, listed, status } of expected) {
    const listing = listed ? "listed" : "unlisted";
    const record = sandbox.listings.get(mentorId);
    const latest = newest.get(mentorId);
    if (record?.listing !== listing) {
      problems.push(
        `mentor ${mentorId}: sandbox ${record?.listing ?? "none"}, database ${listing}`,
      );
    }
    if (latest && record && record.lastEventId !== latest.event_id) {
      problems.push(
        `mentor ${mentorId}: sandbox last applied ${record.lastEventId}, newest event ${latest.event_id}`,
      );
    }
    const truth = {
      state: "synced",
      listing,
      last_event_id: latest?.event_id,
      attempts: latest?.attempts,
    };
    const shown = {
      state: status?.state,
      listing: status?.listing,
      last_event_id: status?.last_event_id,
      attempts: status?.attempts,
    };
    if (JSON.stringify(shown) !== JSON.stringify(truth)) {
      problems.push(
        `mentor ${mentorId}: status ${JSON.stringify(shown)}, truth ${JSON.stringify(truth)}`,
      );
    }
  }
  if (expected.length !== mentorIds.length) {
    problems.push(`${mentorIds.length - expected.length} mentors have no listing state`);
  }
  return problems;
}

export interface AuditFigures {
  events: number;
  delivered: number;
  superseded: number;
  attemptRows: number;
  /** Attempts our client gave up on (DYNAMICS_ATTEMPT_TIMEOUT_MS): the request may have arrived. */
  timedOut: number;
}

export async function auditFigures(sql: Sql, mentorIds: readonly string[]): Promise<AuditFigures> {
  const [row] = await sql<AuditFigures[]>`
    select count(*)::int as events,
           count(*) filter (where state = 'delivered')::int as delivered,
           count(*) filter (where state = 'superseded')::int as superseded,
           (select count(*)::int from public.dynamics_sync_attempts a
             where a.mentor_id = any(${mentorIds as string[]}::uuid[])) as "attemptRows",
           (select count(*)::int from public.dynamics_sync_attempts a
             where a.mentor_id = any(${mentorIds as string[]}::uuid[])
               and a.error_code = 'timeout') as "timedOut"
    from public.sync_events where mentor_id = any(${mentorIds as string[]}::uuid[])`;
  return row;
}
