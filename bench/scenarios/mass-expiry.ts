// Scenario 2: the nightly job expires 10,000 certifications at once against an unthrottled sandbox.
// sync-retry and dynamics-webhook run in the deployed shape, each its own process, as on Supabase:
// the callers invoke sync-retry directly and the sandbox's confirmations go to dynamics-webhook.
import type { SandboxHandle } from "../../local/stack.ts";
import { startBenchStack } from "../bench-stack.ts";
import { type DeployedDispatch, freshSecrets, startDeployedDispatch } from "../deployed.ts";
import { runMassDispatch } from "../mass-dispatch.ts";
import { cpuNote } from "../process-usage.ts";
import { atLeast, exactly, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";

const NAME = "2 mass expiry";

/** Settings found best on the 2-core machine (see BENCHMARKS.md); one dispatcher on PGlite's one session. */
export function dispatchSettings(engine: "pglite" | "postgres") {
  return engine === "postgres"
    ? { env: { SYNC_BATCH_SIZE: "500", SYNC_CONCURRENCY: "64", DB_POOL_MAX: "8" }, dispatchers: 2 }
    : { env: { SYNC_BATCH_SIZE: "500", SYNC_CONCURRENCY: "32", DB_POOL_MAX: "4" }, dispatchers: 1 };
}

export const settingsNote = (s: ReturnType<typeof dispatchSettings>) =>
  `${
    Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(" ")
  }, ${s.dispatchers} sync-retry caller(s)`;

/** The sandbox posts listing.confirmed back for every delivery, as Dynamics would: that load too. */
export function callbacksNote(sandbox: SandboxHandle): string {
  const { attempts, sent, failed } = sandbox.state.counters.callbacks;
  return `${sent} sent, ${failed} given up, ${attempts} attempts`;
}

/** Total and per line kind: what Supabase's log limit (about 100 events per 10 s per function) must take. */
export function logLinesNote(byKind: Record<string, number>): string {
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return `${total} (${Object.entries(byKind).map(([k, n]) => `${k}: ${n}`).join(", ") || "none"})`;
}

export const massExpiry: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const count = ctx.smoke ? 300 : 10_000;
    const settings = dispatchSettings(ctx.adminUrl ? "postgres" : "pglite");
    // No scheduler: every sweep is a caller's, sent to the deployed sync-retry.
    const bench = await startBenchStack({
      adminUrl: ctx.adminUrl,
      env: freshSecrets(),
      scheduler: false,
    });
    let deployed: DeployedDispatch | undefined;
    try {
      // Logging at info, as deployed, to count the lines a mass expiry writes.
      deployed = await startDeployedDispatch(
        bench.stack,
        { ...settings.env, LOG_LEVEL: "info" },
        { callbacks: true },
      );
      const r = await runMassDispatch(bench.stack, {
        count,
        dispatchers: settings.dispatchers,
        timeoutMs: ctx.smoke ? 30_000 : 180_000,
        progress: ctx.progress,
        sweep: deployed.sweep,
        pids: deployed.pids,
      });
      const [syncRetryRss, webhookRss] = r.peakRssMiB;
      return [
        figure(NAME, "time to all removals", r.makespanMs / 1000, " s"),
        figure(
          NAME,
          "deliveries/s",
          (count - r.undelivered) / (r.makespanMs / 1000),
          "",
          atLeast(1000),
        ),
        figure(NAME, "undelivered at the end", r.undelivered, ""),
        figure(NAME, "events lost", r.lost, "", exactly(0)),
        figure(NAME, "dead letters", r.deadLetters, "", exactly(0)),
        syncRetryRss === null || webhookRss === null
          ? note(NAME, "peak RSS", "unavailable (no /proc)")
          : note(
            NAME,
            "peak RSS",
            `sync-retry ${Math.round(syncRetryRss)} MiB, dynamics-webhook ${
              Math.round(webhookRss)
            } MiB`,
          ),
        figure(NAME, "events needing a 2nd round", r.rescheduled, ""),
        note(
          NAME,
          "CPU ms per delivery",
          cpuNote(
            r.cpu,
            count - r.undelivered,
            ctx.adminUrl !== undefined,
            "functions (sync-retry + dynamics-webhook)",
          ),
        ),
        note(NAME, "attempt outcomes", r.attemptOutcomes),
        note(NAME, "confirmation callbacks", callbacksNote(bench.stack.sandbox!)),
        note(
          NAME,
          "settings",
          `${r.expired} expired; ${settingsNote(settings)}; functions in the deployed shape`,
        ),
        note(NAME, "function log lines (LOG_LEVEL=info)", logLinesNote(deployed.logLines())),
      ];
    } finally {
      await deployed?.stop();
      await bench.close();
    }
  },
};
