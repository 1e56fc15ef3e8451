// Scenario 4: signed inbound webhooks through `dynamics-webhook` (signature check, validation, ledger
// insert and effect in one statement) against a bare Deno handler doing only the ledger insert, in
// the same run, at the same concurrency, on the same database. Both are a Deno process of their own
// serving HTTP: the function runs in the deployed shape (bench/deployed.ts), as Supabase runs it,
// not behind the local gateway, whose forwarding Supabase's own gateway does not charge to it.
import {
  type ActivityProfile,
  describeProfile,
  emptyProfile,
  startActivitySampler,
} from "../activity-sampler.ts";
import { startBareServer } from "../bare-server.ts";
import { startBenchStack } from "../bench-stack.ts";
import { deployedEnv, freshSecrets, fromRepository, startInDeployedShape } from "../deployed.ts";
import { deliveryFeed, signedDeliveries } from "../inbound-deliveries.ts";
import { type LoadResult, runLoad } from "../load.ts";
import { cpuBetween, type CpuByProcess, cpuNote, sampleCpu, sumCpu } from "../process-usage.ts";
import { atLeast, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { seedSyncedMentors } from "../seed.ts";
import { median } from "../stats.ts";

type Target = "product" | "bare";

const NAME = "4 inbound webhooks";
const CONNECTIONS = 16;
// Interleaved rounds, medians reported; the smoke run only checks the scenario works (one round).
// Five, not three: one run's rounds gave product / bare from 0.60 to 0.94 (Postgres, half
// duplicates, 2026-11-24), so a median of three still moved by 0.2 between runs.
const roundsFor = (smoke: boolean) => (smoke ? 1 : 5);
// PGlite's wire server takes 16 clients: the gateway's pool, the bare handler's and the bench's own.
const poolFor = (adminUrl: string | undefined) => (adminUrl ? "8" : "4");
// More signed bodies than either target can take in the run: a reused body would be a duplicate.
// 6,000 ran out on the fast machine of 2026-11-24 night (speed probe 98 ms).
const MAX_RATE_PER_SECOND = 15_000;
const WARM_UP_SECONDS = 5;

export const inboundWebhooks: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const durationSeconds = ctx.smoke ? 1 : 5;
    const rounds = roundsFor(ctx.smoke);
    const pool = poolFor(ctx.adminUrl);
    const bench = await startBenchStack({
      adminUrl: ctx.adminUrl,
      env: { ...freshSecrets(), DB_POOL_MAX: pool },
      scheduler: false,
    });
    const { stack } = bench;
    const bare = await startBareServer({ ...stack.gatewayEnv, DB_POOL_MAX: pool });
    const product = await startInDeployedShape(
      fromRepository("dynamics-webhook"),
      deployedEnv(stack, { DB_POOL_MAX: pool }),
    );
    try {
      const mentorIds = await seedSyncedMentors(stack.sql, 1_000);
      await stack.sql`analyze`;
      const load = (server: { url: string }, duplicates: boolean, seconds: number) => {
        const feed = deliveryFeed(
          signedDeliveries({
            count: MAX_RATE_PER_SECOND * seconds,
            mentorIds,
            secret: stack.config.inbound.secrets![0],
            duplicates,
          }),
        );
        return runLoad({
          url: server.url,
          method: "POST",
          connections: CONNECTIONS,
          durationSeconds: seconds,
          next: () => feed.next(),
        }).then((r) => ({ ...r, ranOut: feed.wraps > 0 }));
      };
      // Unmeasured warm-up of both: the function's first round ran 10-25 % below its later ones
      // (its JIT, its pool's first connections) while the bare handler's did not.
      if (!ctx.smoke) {
        for (const server of [product, bare]) await load(server, false, WARM_UP_SECONDS);
      }
      const figures: Figure[] = [];
      for (const duplicates of [false, true]) {
        const label = duplicates ? "50% duplicates" : "unique";
        const runs: Record<Target, LoadResult[]> = { product: [], bare: [] };
        // Where each target's requests spend the machine's two cores, summed over its rounds.
        const cpu: Record<Target, { spent: CpuByProcess[]; requests: number }> = {
          product: { spent: [], requests: 0 },
          bare: { spent: [], requests: 0 },
        };
        // What the database's backends do meanwhile (Postgres): the cause when cores are idle.
        const activity: Record<Target, ActivityProfile> = {
          product: emptyProfile(),
          bare: emptyProfile(),
        };
        // Interleaved rounds, medians reported: the machine is shared, a single run is noise.
        for (let round = 1; round <= rounds; round++) {
          for (const target of ["product", "bare"] as const) {
            const server = target === "product" ? product : bare;
            const cpuBefore = await sampleCpu(server.pid);
            const sampler = ctx.adminUrl
              ? startActivitySampler(stack.databaseUrl, activity[target])
              : null;
            const r = await load(server, duplicates, durationSeconds);
            await sampler?.stop();
            cpu[target].spent.push(cpuBetween(cpuBefore, await sampleCpu(server.pid)));
            cpu[target].requests += r.requests;
            if (r.ranOut) throw new Error(`${target}: the signed deliveries ran out`);
            if (r.non2xx + r.errors > 0) {
              throw new Error(
                `${target}: ${r.non2xx} non-2xx, ${r.errors} errors (${
                  JSON.stringify(r.statusCodes)
                })`,
              );
            }
            ctx.progress(
              `${label} round ${round} ${target}: ${
                r.requestsPerSecond.toFixed(0)
              } req/s, p99 ${r.p99} ms`,
            );
            runs[target].push(r);
          }
        }
        const rps = (target: Target) => median(runs[target].map((r) => r.requestsPerSecond));
        const p99 = (target: Target) => median(runs[target].map((r) => r.p99));
        const ratios = runs.product.map((r, i) =>
          r.requestsPerSecond / runs.bare[i].requestsPerSecond
        );
        figures.push(
          figure(NAME, `${label}: req/s`, rps("product"), ""),
          figure(NAME, `${label}: p99`, p99("product"), " ms"),
          figure(NAME, `${label}: bare req/s`, rps("bare"), ""),
          figure(NAME, `${label}: bare p99`, p99("bare"), " ms"),
          figure(NAME, `${label}: product / bare`, median(ratios), "", atLeast(0.8)),
          ...(["product", "bare"] as const).map((target) =>
            note(
              NAME,
              `${label}: ${target} CPU ms per request`,
              cpuNote(
                sumCpu(cpu[target].spent),
                cpu[target].requests,
                ctx.adminUrl !== undefined,
                target === "product" ? "function" : "bare handler",
              ),
            )
          ),
          ...(ctx.adminUrl
            ? (["product", "bare"] as const).map((target) =>
              note(
                NAME,
                `${label}: ${target} database activity`,
                `pg_stat_activity every 20 ms: ${describeProfile(activity[target])}`,
              )
            )
            : []),
        );
      }
      figures.push(
        note(
          NAME,
          "settings",
          `${CONNECTIONS} connections x ${durationSeconds} s per run, ${rounds} interleaved rounds (medians)${
            ctx.smoke ? "" : ` after ${WARM_UP_SECONDS} s of unmeasured load on each`
          }, DB_POOL_MAX=${pool} for both; the function in the deployed shape (its own process, no gateway)`,
        ),
      );
      return figures;
    } finally {
      await product.stop();
      await bare.stop();
      await bench.close();
    }
  },
};
