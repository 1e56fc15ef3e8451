// The fault matrix, registered at two sizes: 200 events per fault in `npm test`
// (tests/reliability/fault-matrix.test.ts) and the 1,000 events per fault in
// `npm run test:long` (tests/long/fault-matrix.test.ts). For each fault kind a run seeds that many
// open events over as many fresh mentors (half listings, half expiries that supersede a listing),
// injects the fault, drains through the real sync service and Dynamics client in-process, then
// checks: nothing lost, one audit row per request the sandbox saw, the sandbox lists every mentor
// as the database says, and the status rows agree. One dispatcher, so PGlite and real Postgres.
import { describe, expect, it } from "vitest";
import type postgres from "postgres";
import type { FaultSpec } from "../../local/dynamics-sandbox/faults.ts";
import type { TestSandbox } from "../support/sandbox.ts";
import {
  auditFigures,
  consistencyProblems,
  createDispatcher,
  dispatchConfig,
  drain,
  expireMentors,
  useDispatchFixture,
} from "./dispatch-harness.ts";
import { seedMentorsWithPendingEvents } from "../support/factories.ts";

interface FaultCase {
  name: string;
  inject: (sandbox: TestSandbox) => Promise<void>;
  env?: Record<string, string>;
  /** Case-specific checks on top of the invariants. */
  check: (run: MatrixRun) => void;
}

interface MatrixRun {
  events: number;
  drained: Awaited<ReturnType<typeof drain>>;
  counters: TestSandbox["state"]["counters"];
  audit: Awaited<ReturnType<typeof auditFigures>>;
  problems: string[];
}

const faults = (spec: FaultSpec) => (sandbox: TestSandbox) => sandbox.control.faults(spec);

/**
 * The sandbox saw `expected` requests, plus at most one per attempt our client timed out: on a
 * loaded machine a slow answer is given up on and retried, and the abandoned request may or may not
 * have arrived (each is audited with error_code `timeout`).
 */
function expectRequests(run: MatrixRun, expected: number): void {
  expect(run.counters.requests).toBeGreaterThanOrEqual(expected);
  expect(run.counters.requests).toBeLessThanOrEqual(expected + run.audit.timedOut);
}

/** The fault kinds of the issue, with fault counts scaled to `events` where counts are free. */
export function faultCases(events: number): FaultCase[] {
  const burst = events / 5;
  const serverErrors = [500, 502, 503, 504].map((status): FaultCase => ({
    name: `HTTP ${status} x${burst}`,
    inject: faults({ kind: "status", status, count: burst }),
    check: (run) => expectRequests(run, events + burst),
  }));
  const outage = 60;
  return [
    ...serverErrors,
    {
      name: "429 with Retry-After: 1 x40",
      inject: faults({ kind: "rate_limit", count: 40, retryAfterSeconds: 1 }),
      check: (run) => expectRequests(run, events + 40),
    },
    {
      name: "hangs past the attempt timeout x32",
      inject: faults({ kind: "hang", count: 32, ms: 60_000 }),
      check: (run) => expect(run.counters.faultsServed.hang).toBe(32),
    },
    {
      name: `connection resets x${burst}`,
      inject: faults({ kind: "reset", count: burst }),
      check: (run) => expect(run.counters.faultsServed.reset).toBe(burst),
    },
    {
      name: `valid tokens rejected (401) x${events / 10}`,
      inject: faults({ kind: "reject_token", count: events / 10 }),
      // Each rejection is answered with a fresh token, shared by the sends waiting for it.
      check: (run) => expect(run.counters.tokensIssued).toBeGreaterThan(1),
    },
    {
      name: "token endpoint down for a while (25 failed token requests)",
      inject: faults({ kind: "token_down", count: 25 }),
      check: (run) => {
        expect(run.counters.faultsServed.token_down).toBe(25);
        // Without a token nothing is sent: every webhook request was a delivery.
        expectRequests(run, events);
        expect(run.drained.retrying).toBeGreaterThan(0);
      },
    },
    {
      // 100 requests/s, below what a dispatcher sustains here, so the limit is hit all along; the
      // window is smaller than the 16 sends in flight at first, so some are refused before the
      // client has learnt it (tests/reliability/throttle-pacing.test.ts checks the pacing itself).
      name: "sliding-window throttle, 5 requests per 50 ms",
      // A 50 ms window is below what whole seconds of Retry-After express: the sandbox says the
      // wait in milliseconds too (Dataverse's windows are minutes).
      inject: (sandbox) => sandbox.control.throttle(5, 50, { millisecondHint: true }),
      check: (run) => {
        expect(run.counters.throttled).toBeGreaterThan(0);
        expectRequests(run, events + run.counters.throttled);
      },
    },
    {
      // A hard outage with the breaker on. Refusals are not attempts (no audit row, no request);
      // that they do not spend the dead-letter budget is circuit-breaker-budget.test.ts.
      name: `circuit breaker through an outage (${outage} x 503)`,
      inject: faults({ kind: "status", status: 503, count: outage }),
      env: {
        DYNAMICS_CIRCUIT_THRESHOLD: "5",
        DYNAMICS_CIRCUIT_COOLDOWN_MS: "50",
        DYNAMICS_MAX_RETRIES: "1",
      },
      check: (run) => {
        expectRequests(run, events + outage);
        // Shed: a round that sent a request took one of the outage's `outage` failures, so the
        // rounds beyond that which ended undelivered were refusals that never reached Dynamics.
        expect(run.drained.retrying).toBeGreaterThan(outage);
      },
    },
  ];
}

/** What every case must hold, as one comparable value so a failure shows all of it. */
function invariants(run: MatrixRun) {
  return {
    problems: run.problems.slice(0, 20),
    delivered: run.audit.delivered,
    superseded: run.audit.superseded,
    deadLettered: run.drained.failed,
    attemptRowsMinusRequests: run.audit.attemptRows - run.counters.requests,
  };
}

/** The figures of one case, as RELIABILITY.md reports them. */
export function figuresOf(run: MatrixRun) {
  const { requests, throttled, tokenRequests, faultsServed } = run.counters;
  const { rounds, retrying, elapsedMs } = run.drained;
  return {
    ...run.audit,
    requests,
    throttled,
    tokenRequests,
    faultsServed,
    rounds,
    retrying,
    elapsedMs,
  };
}

/**
 * Registers the matrix (hooks, one test per fault kind) with `events` events per fault;
 * `onRun` receives each case's run (the long suite prints the figures).
 */
export function registerFaultMatrix(
  events: number,
  timeoutMs: number,
  onRun: (name: string, run: MatrixRun) => void = () => {},
): void {
  const fixture = useDispatchFixture();
  // One client for every dispatcher of the file: PGlite's wire server takes a handful of clients.
  let dispatchSql: postgres.Sql | undefined;

  async function run(c: FaultCase): Promise<MatrixRun> {
    const { db, sandbox } = fixture;
    const mentorIds = await seedMentorsWithPendingEvents(db.sql, events);
    await expireMentors(db.sql, mentorIds.slice(0, events / 2));
    // A fresh dispatcher per case: its own token cache and circuit breaker.
    const config = dispatchConfig(db.url, sandbox, c.env);
    dispatchSql ??= db.connect({ max: 4 });
    const dispatcher = createDispatcher(config, dispatchSql, "matrix");
    await c.inject(sandbox);
    const drained = await drain(db.sql, [dispatcher], { timeoutMs: timeoutMs - 5_000 });
    return {
      events,
      drained,
      counters: structuredClone(sandbox.state.counters),
      audit: await auditFigures(db.sql, mentorIds),
      problems: await consistencyProblems(db.sql, sandbox.state, mentorIds),
    };
  }

  describe(`fault matrix: ${events} events per fault kind`, () => {
    for (const c of faultCases(events)) {
      it(`${c.name}: none lost, every attempt audited, sandbox and status rows true`, async () => {
        const result = await run(c);
        onRun(c.name, result);
        expect(invariants(result)).toEqual({
          problems: [],
          delivered: events,
          superseded: events / 2,
          deadLettered: 0,
          attemptRowsMinusRequests: 0,
        });
        c.check(result);
      }, timeoutMs);
    }
  });
}
