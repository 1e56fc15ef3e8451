// The workload of scenarios 2 and 3: `count` lapsed certifications, one expire_due_certifications()
// call, then dispatch driven by parallel sync-retry calls (as pg_cron and the nudges would) until
// the sandbox holds every removal or the time is up.
import type { Stack } from "../local/stack.ts";
import type { SyncRetryResult } from "../shared/contract/api.ts";
import { cpuBetween, type CpuByProcess, peakRssMiB, sampleCpu } from "./process-usage.ts";
import {
  COMPLETION_POLL_MS,
  lastRemovalAt,
  type ScenarioContext,
  sleep,
  unlistedCount,
} from "./scenario.ts";
import { seedSyncedMentors } from "./seed.ts";

export interface MassDispatchOptions {
  count: number;
  /** sync-retry calls in flight at once. */
  dispatchers: number;
  timeoutMs: number;
  progress: ScenarioContext["progress"];
  /** One sync-retry call returning how many events it claimed; default: the gateway's. */
  sweep?: () => Promise<number>;
  /** The functions' processes, whose CPU and peak RSS are reported; default: the gateway. */
  pids?: readonly number[];
}

export interface MassDispatchResult {
  expired: number;
  /** When the expire call returned, its transaction committed (epoch ms): exposure starts here. */
  committedAt: number;
  /** From the expire call to the last removal the sandbox applied (ms). */
  makespanMs: number;
  /** Mentors the sandbox still lists when the run ended (done or timed out). */
  undelivered: number;
  /** Of those, the ones with no expiry event left to deliver: removals that will never happen. */
  lost: number;
  deadLetters: number;
  /** Events that needed more than one dispatch round (each waited out a reschedule delay). */
  rescheduled: number;
  /** HTTP attempts by outcome or error code, e.g. "delivered 10000, http_429 312". */
  attemptOutcomes: string;
  /** Of each of `pids`, in order; null where /proc is not available. */
  peakRssMiB: (number | null)[];
  /**
   * CPU spent from the expire call to the end of the run (ms), by process: where a delivery's cost
   * goes on a machine whose cores all of them share. Null where /proc is not available.
   */
  cpu: CpuByProcess;
}

/** One POST to a sync-retry at `url`; returns its answer (claimed, cpuMs, ...). */
export async function callSyncRetry(
  url: string,
  headers: Record<string, string>,
): Promise<SyncRetryResult> {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: "{}",
  });
  if (!res.ok) throw new Error(`sync-retry answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as SyncRetryResult;
}

/** One sync-retry call through the gateway; returns how many events it claimed. */
async function gatewaySweep(stack: Stack): Promise<number> {
  const answer = await callSyncRetry(`${stack.functionsUrl}/sync-retry`, {
    authorization: `Bearer ${stack.serviceRoleKey}`,
  });
  return answer.claimed;
}

export async function runMassDispatch(
  stack: Stack,
  o: MassDispatchOptions,
): Promise<MassDispatchResult> {
  const sandbox = stack.sandbox!;
  const mentors = await seedSyncedMentors(stack.sql, o.count, { lapsed: true });
  await stack.sql`analyze`;
  o.progress(`seeded ${o.count} lapsed certifications`);

  const pids = o.pids ?? [stack.gatewayPid];
  const cpuBefore = await sampleCpu(pids);
  const t0 = Date.now();
  const [{ expired }] = await stack.sql<{ expired: number }[]>`
    select public.expire_due_certifications() as expired`;
  const committedAt = Date.now();
  const deadline = t0 + o.timeoutMs;
  let done = false;
  // A failed sweep ends the run with its error, through the scenario's own clean-up (it used to be
  // an unhandled rejection that ended the bench process and left its database behind).
  const failures: unknown[] = [];
  const driver = async () => {
    while (!done && Date.now() < deadline) {
      const claimed = await (o.sweep ? o.sweep() : gatewaySweep(stack));
      // Nothing due (the other dispatchers hold the leases): do not spin on the gateway.
      if (claimed === 0) await sleep(10);
    }
  };
  const drivers = Array.from({ length: o.dispatchers }, () =>
    driver().catch((error) => {
      failures.push(error);
      done = true;
    }));
  let reported = 0;
  while (Date.now() < deadline && failures.length === 0) {
    const removed = unlistedCount(sandbox, mentors);
    if (removed === o.count) break;
    if (removed - reported >= o.count / 4) {
      o.progress(`${removed}/${o.count} removals after ${Date.now() - t0} ms`);
      reported = removed;
    }
    await sleep(COMPLETION_POLL_MS);
  }
  done = true;
  await Promise.all(drivers);
  if (failures.length > 0) throw failures[0];
  // The confirmation callbacks still in flight are part of what the deliveries cost.
  await sandbox.idle();
  const cpuAfter = await sampleCpu(pids);
  const [{ failed, rescheduled }] = await stack.sql<{ failed: number; rescheduled: number }[]>`
    select count(*) filter (where state = 'failed')::int as failed,
           count(*) filter (where rounds > 1)::int as rescheduled
      from public.sync_events where event_type = 'certification.expired'`;
  const outcomes = await stack.sql<{ outcome: string; n: number }[]>`
    select coalesce(error_code, outcome) as outcome, count(*)::int as n
      from public.dynamics_sync_attempts group by 1 order by 2 desc`;
  const queued = await stack.sql<{ mentor_id: string }[]>`
    select mentor_id from public.sync_events
     where event_type = 'certification.expired' and state in ('pending', 'retrying')`;
  const stillQueued = new Set(queued.map((q) => q.mentor_id));
  const missing = mentors.filter((id) => sandbox.state.listings.get(id)?.listing !== "unlisted");
  return {
    expired,
    committedAt,
    makespanMs: lastRemovalAt(sandbox, mentors) - t0,
    undelivered: missing.length,
    lost: missing.filter((id) => !stillQueued.has(id)).length,
    deadLetters: failed,
    rescheduled,
    attemptOutcomes: outcomes.map((o) => `${o.outcome} ${o.n}`).join(", "),
    peakRssMiB: await Promise.all(pids.map(peakRssMiB)),
    cpu: cpuBetween(cpuBefore, cpuAfter),
  };
}
