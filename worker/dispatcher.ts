// A standalone dispatcher worker (Deno): drains the outbox in a loop until SIGTERM/SIGINT, with the
// same config as the functions (shared/config.ts) and one JSON log line per round that did work.
// Safe to run several at once and to kill at any moment: claims are leased, so another worker (or
// this one, restarted) re-claims whatever a dead worker held once its lease runs out.
//
//   deno run --allow-net --allow-env --allow-read --allow-sys worker/dispatcher.ts [--idle-ms=1000]
//
// It sleeps `--idle-ms` when nothing is due; on real Postgres a NOTIFY on the outbox channel wakes
// it at once (on the embedded PGlite a NOTIFY does not reach socket clients, so it just polls).
import { loadConfig, readEnvironment } from "../shared/config.ts";
import type { Sql } from "../shared/db.ts";
import { redact } from "../shared/dynamics/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { createRuntime } from "../shared/runtime.ts";
import { SYNC_CHANNEL } from "../shared/outbox/sync-queries.ts";
import type { DispatchCounts } from "../shared/outbox/dispatcher.ts";

export interface DispatcherLoopOptions {
  dispatch: (signal: AbortSignal) => Promise<DispatchCounts>;
  log: Logger;
  signal: AbortSignal;
  /** Pause when nothing was due. */
  idleMs: number;
  /** Pause after a failed round (database unreachable, connection killed). */
  errorPauseMs: number;
  /** Resolves after `ms`, or earlier when woken or when `signal` aborts. */
  pause: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Runs dispatch rounds until `signal` aborts; a failing round is logged and retried, never fatal. */
export async function runDispatcherLoop(o: DispatcherLoopOptions): Promise<void> {
  while (!o.signal.aborted) {
    let pauseMs: number;
    try {
      const counts = await o.dispatch(o.signal);
      if (counts.claimed > 0 || counts.released > 0 || counts.held > 0) {
        o.log.info("dispatch round", { ...counts });
      }
      pauseMs = counts.claimed > 0 ? 0 : o.idleMs;
    } catch (error) {
      o.log.error("dispatch round failed", { error: redact(String(error)) });
      pauseMs = o.errorPauseMs;
    }
    if (pauseMs > 0) await o.pause(pauseMs, o.signal);
  }
}

/**
 * A pause that `wake()` cuts short (a NOTIFY arrived), as does aborting its signal. A wake while no
 * pause is running makes the next pause return at once: that NOTIFY may name an event the round in
 * progress did not see.
 */
export function createWakeablePause() {
  let wake: (() => void) | null = null;
  let woken = false;
  return {
    wake: () => {
      if (wake) wake();
      else woken = true;
    },
    pause: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        if (woken || signal.aborted) {
          woken = false;
          resolve();
          return;
        }
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      }),
  };
}

export function parseIdleMs(args: readonly string[], fallback = 1000): number {
  const arg = args.find((a) => a.startsWith("--idle-ms="));
  const value = arg ? Number(arg.slice("--idle-ms=".length)) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new Error("--idle-ms must be a whole number of milliseconds between 1 and 60000");
  }
  return value;
}

async function listenForNudges(sql: Sql, onNudge: () => void, log: Logger): Promise<void> {
  try {
    await sql.listen(SYNC_CHANNEL, onNudge);
  } catch (error) {
    log.warn("dispatcher: LISTEN unavailable, polling only", { error: redact(String(error)) });
  }
}

async function main(): Promise<void> {
  const idleMs = parseIdleMs(Deno.args);
  const runtime = createRuntime(loadConfig(readEnvironment(), ["database", "outbound"]));
  const { log } = runtime;
  const stop = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(name, () => {
      // A second signal means "now": leases make an abrupt exit safe.
      if (stop.signal.aborted) Deno.exit(1);
      log.info("dispatcher stopping", { signal: name });
      stop.abort();
    });
  }
  // A killed database connection can leave a rejection nobody awaits inside the driver (seen in
  // tests/long/crash-safety.test.ts: "terminating connection due to administrator command", not
  // from any query of ours; Deno then exits). One such was postgres.js's start-up type query, whose
  // promise it drops (the pool no longer sends it: shared/db.ts). The loop already survives a failed
  // round; any stray rejection is logged instead of ending a worker whose leases would only be
  // re-claimed later.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("dispatcher: unhandled rejection", { error: redact(String(event.reason)) });
  });
  const waker = createWakeablePause();
  await listenForNudges(runtime.sql, waker.wake, log);
  log.info("dispatcher started", { idleMs, pid: Deno.pid });
  await runDispatcherLoop({
    // No per-request CPU limit here: a round is bounded by wall-clock time and SIGTERM only.
    dispatch: (signal) => runtime.sync.dispatchDue({ signal, cpuBudgetMs: Infinity }),
    log,
    signal: stop.signal,
    idleMs,
    errorPauseMs: Math.max(idleMs, 250),
    pause: waker.pause,
  });
  await runtime.close();
  log.info("dispatcher stopped");
  Deno.exit(0);
}

if (import.meta.main) await main();
