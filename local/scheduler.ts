// What pg_net and pg_cron do on Supabase, done by the local stack: nudge the dispatcher as soon as
// the outbox has due events, sweep on a timer, and run the nightly auto-pause job, the hourly
// reconciliation and the retention job on timers.
// On real Postgres the nudge is LISTEN on the trigger's channel; on the embedded PGlite a NOTIFY
// does not reach socket clients (measured), so a short poll of due events takes its place.
import type postgres from "postgres";
import { hasDueEvents, SYNC_CHANNEL } from "../shared/outbox/sync-queries.ts";
import { pruneHistory, type RetentionPolicy } from "../shared/retention.ts";

export interface SchedulerOptions {
  sql: postgres.Sql;
  engine: "pglite" | "postgres";
  /** Calls the sync-retry function; resolves when the sweep answered. */
  sweep: () => Promise<void>;
  /** Calls the sync-reconcile function. */
  reconcile?: () => Promise<void>;
  sweepEveryMs?: number;
  reconcileEveryMs?: number;
  expireEveryMs?: number;
  pollEveryMs?: number;
  retention: RetentionPolicy;
  pruneEveryMs?: number;
  onError?: (what: string, err: unknown) => void;
}

export interface Scheduler {
  stop(): Promise<void>;
}

export async function startScheduler(opts: SchedulerOptions): Promise<Scheduler> {
  const { sql } = opts;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  // One sweep at a time; a nudge during a sweep schedules exactly one more, so nothing is missed.
  const nudge = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = opts.sweep().catch((err) => opts.onError?.("sweep", err)).finally(() => {
      running = null;
      if (again) {
        again = false;
        nudge();
      }
    });
  };

  const timers: ReturnType<typeof setInterval>[] = [];
  let unlisten: (() => Promise<void>) | null = null;
  if (opts.engine === "postgres") {
    const sub = await sql.listen(SYNC_CHANNEL, () => nudge());
    unlisten = () => sub.unlisten();
  } else {
    let polling = false;
    timers.push(setInterval(async () => {
      if (polling || running || stopped) return;
      polling = true;
      try {
        if (await hasDueEvents(sql)) nudge();
      } catch (err) {
        opts.onError?.("poll", err);
      } finally {
        polling = false;
      }
    }, opts.pollEveryMs ?? 25));
  }
  timers.push(setInterval(nudge, opts.sweepEveryMs ?? 30_000));
  timers.push(setInterval(async () => {
    try {
      await sql`select public.expire_due_certifications()`;
    } catch (err) {
      opts.onError?.("expire_due_certifications", err);
    }
  }, opts.expireEveryMs ?? 60_000));
  const reconcile = opts.reconcile;
  if (reconcile) {
    timers.push(setInterval(() => {
      reconcile().catch((err) => opts.onError?.("reconcile", err));
    }, opts.reconcileEveryMs ?? 3_600_000));
  }
  let pruning = false;
  timers.push(setInterval(async () => {
    if (pruning || stopped) return;
    pruning = true;
    try {
      await pruneHistory(sql, opts.retention);
    } catch (err) {
      opts.onError?.("prune_sync_history", err);
    } finally {
      pruning = false;
    }
  }, opts.pruneEveryMs ?? 600_000));
  nudge();

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await unlisten?.();
      await running;
    },
  };
}
