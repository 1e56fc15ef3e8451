// Scenario 7: sync-retry in the deployed shape against a 10,000-event mass expiry. The real Supabase
// CLI deploys the functions to the Management API stand-in (as check:deploy does); sync-retry then
// runs from exactly its uploaded files under Deno as its own process, with the environment hosted
// Supabase gives it, against the bench database and sandbox (the gateway serves only the
// confirmation callbacks). One caller at a time, as pg_cron and the nudge call it, so the process's
// CPU time between two answers is that invocation's: read from /proc/PID/stat (every thread) beside
// the cpuMs the function reports by its own meter. The smoke run skips the CLI (its bundling took
// 1.6 s on an idle machine and 14 s under the other helpers' load) and runs the same entrypoint and
// import map straight from the repository, the way deployed-function.ts runs an upload.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startManagementApiStandIn } from "../../tests/deploy/management-api-stand-in.ts";
import { deployFunctions } from "../../tests/deploy/supabase-cli.ts";
import { startBenchStack } from "../bench-stack.ts";
import {
  deployedEnv,
  freshSecrets,
  fromRepository,
  startInDeployedShape,
  sweptMemory,
} from "../deployed.ts";
import { callSyncRetry, runMassDispatch } from "../mass-dispatch.ts";
import { cpuTimeMs } from "../process-usage.ts";
import { atMost, exactly, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { median } from "../stats.ts";
import { callbacksNote, settingsNote } from "./mass-expiry.ts";

const NAME = "7 deployed sync-retry";
// A project ref is exactly 20 lowercase letters.
const PROJECT_REF = "hlfdynamicssyncbench";
/** Supabase kills a request past 2 s of CPU; the dispatcher's own budget (SYNC_CPU_BUDGET_MS). */
const CPU_BUDGET_MS = 1500;
/** Supabase's memory limit is 256 MB; the target for this process. */
const RSS_LIMIT_MIB = 150;

async function deploySyncRetry(work: string) {
  const api = await startManagementApiStandIn({
    outDir: join(work, "uploads"),
    projectRef: PROJECT_REF,
  });
  try {
    const deployed = await deployFunctions({
      apiUrl: api.url,
      projectRef: PROJECT_REF,
      profileDir: work,
    });
    const upload = api.uploads.get("sync-retry");
    if (deployed.code !== 0 || !upload) throw new Error(`deploy failed:\n${deployed.output}`);
    return upload;
  } finally {
    await api.close();
  }
}

/**
 * Scenario 2's PGlite settings on both engines. The peak RSS hardly depends on them (Postgres:
 * 157-163 MiB at 500 / 64 / 8, 148-154 at 500 / 32 / 4, 155 at 250 / 16 / 4) and plateaus mid-run.
 */
const DEPLOYED_SETTINGS = {
  env: { SYNC_BATCH_SIZE: "500", SYNC_CONCURRENCY: "32", DB_POOL_MAX: "4" },
  dispatchers: 1,
};

interface Invocation {
  claimed: number;
  delivered: number;
  ownCpuMs: number;
  procCpuMs: number | null;
}

export const deployedSyncRetry: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const count = ctx.smoke ? 100 : 10_000;
    const settings = DEPLOYED_SETTINGS;
    // No scheduler: every sweep is this scenario's call to the deployed process.
    const bench = await startBenchStack({
      adminUrl: ctx.adminUrl,
      env: freshSecrets(),
      scheduler: false,
    });
    const work = await mkdtemp(join(tmpdir(), "bench-deployed-"));
    try {
      const t0 = Date.now();
      const upload = ctx.smoke ? fromRepository("sync-retry") : await deploySyncRetry(work);
      const deployMs = Date.now() - t0;
      const t1 = Date.now();
      const fn = await startInDeployedShape(
        upload,
        deployedEnv(bench.stack, { ...settings.env, SYNC_CPU_BUDGET_MS: String(CPU_BUDGET_MS) }),
      );
      const bootMs = Date.now() - t1;
      const deployNote = ctx.smoke
        ? "run from the repository (smoke: no CLI)"
        : `deployed with the Supabase CLI in ${deployMs} ms`;
      ctx.progress(`${deployNote}, serving in ${bootMs} ms`);
      const invocations: Invocation[] = [];
      try {
        const sweep = async () => {
          const before = await cpuTimeMs(fn.pid);
          const answer = await callSyncRetry(fn.url, { apikey: bench.stack.secretKey });
          const after = await cpuTimeMs(fn.pid);
          if (answer.claimed > 0) {
            invocations.push({
              claimed: answer.claimed,
              delivered: answer.delivered,
              ownCpuMs: answer.cpuMs,
              procCpuMs: before === null || after === null ? null : after - before,
            });
          }
          return answer.claimed;
        };
        const r = await runMassDispatch(bench.stack, {
          count,
          dispatchers: 1,
          timeoutMs: ctx.smoke ? 30_000 : 300_000,
          progress: ctx.progress,
          sweep,
          pids: [fn.pid],
        });
        const delivered = invocations.reduce((n, i) => n + i.delivered, 0);
        const memory = sweptMemory(fn.output());
        const own = invocations.map((i) => i.ownCpuMs);
        const proc = invocations.map((i) => i.procCpuMs).filter((v): v is number => v !== null);
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        return [
          figure(NAME, "CPU ms per delivery (/proc)", sum(proc) / Math.max(1, delivered), " ms"),
          figure(NAME, "CPU ms per delivery (own)", sum(own) / Math.max(1, delivered), " ms"),
          figure(
            NAME,
            "CPU per invocation, max (own)",
            Math.max(0, ...own),
            " ms",
            atMost(CPU_BUDGET_MS),
          ),
          figure(NAME, "CPU per invocation, p50 (own)", median(own), " ms"),
          figure(NAME, "CPU per invocation, max (/proc)", Math.max(0, ...proc), " ms"),
          figure(NAME, "CPU per invocation, p50 (/proc)", median(proc), " ms"),
          r.peakRssMiB[0] === null
            ? note(NAME, "peak RSS", "unavailable (no /proc)")
            : figure(NAME, "peak RSS", r.peakRssMiB[0], " MiB", atMost(RSS_LIMIT_MIB)),
          figure(
            NAME,
            "heap used + external after a sweep, max (own)",
            Math.max(0, ...memory.map((m) => m.heapUsedMiB + m.externalMiB)),
            " MiB",
          ),
          figure(
            NAME,
            "heap reserved + external after a sweep, max (own)",
            Math.max(0, ...memory.map((m) => m.heapTotalMiB + m.externalMiB)),
            " MiB",
          ),
          figure(NAME, "invocations needed", invocations.length, ""),
          figure(NAME, "events lost", r.lost, "", exactly(0)),
          figure(NAME, "undelivered at the end", r.undelivered, ""),
          figure(NAME, "time to all removals", r.makespanMs / 1000, " s"),
          note(NAME, "confirmation callbacks", callbacksNote(bench.stack.sandbox!)),
          note(
            NAME,
            "settings",
            `${r.expired} expired; ${settingsNote(settings)}, ` +
              `SYNC_CPU_BUDGET_MS=${CPU_BUDGET_MS}; ${deployNote}, boot ${bootMs} ms`,
          ),
        ];
      } finally {
        await fn.stop();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
      await bench.close();
    }
  },
};
