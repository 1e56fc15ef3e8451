// Scenario 9: the product against a peer in the same run. First scenario 2's workload (10,000 lapsed
// certifications, one expire_due_certifications(), dispatch to the sandbox); then what a Node team
// would build instead (bench/pgboss-peer.ts: pg-boss on the same Postgres, plain fetch) sends the
// same 10,000 removals to the same sandbox. Throughput of each, their ratio, and the exposure of each
// removal: from the commit that made it due (the expiry; the peer's enqueue) to the sandbox applying
// it. The sandbox serves both alike, its confirmation callbacks off: the peer has nothing to receive
// them, and on two shared cores the sandbox's callbacks and the product's handling of them would be
// charged to the product's sending (scenario 2 measures the product with them on). The product's
// sync-retry runs in the deployed shape, its own process as the peer's worker is. Postgres only:
// pg-boss needs a server.
import { randomUUID } from "node:crypto";
import { cpuNote } from "../process-usage.ts";
import type { RenewalRecord } from "../../shared/contract/payload.ts";
import { configured } from "../../shared/config.ts";
import { startBenchStack } from "../bench-stack.ts";
import { freshSecrets, startDeployedDispatch } from "../deployed.ts";
import { createDatabase, dropDatabase } from "../../local/db/databases.ts";
import { runMassDispatch } from "../mass-dispatch.ts";
import { forkPeer } from "../peer-process.ts";
import type { PeerSettings, RemovalJob } from "../pgboss-peer.ts";
import { atLeast, exactly, type Figure, figure, note } from "../results.ts";
import { COMPLETION_POLL_MS, type Scenario, type ScenarioContext, waitFor } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { dispatchSettings, settingsNote } from "./mass-expiry.ts";
import type { SandboxHandle } from "../../local/stack.ts";

const NAME = "9 peer queue";

/**
 * Found best on the 2-core machine (BENCHMARKS.md says what else was tried): with a batch done in
 * less than the 0.5 s polling floor a worker idles out the rest, so several workers keep fetches
 * overlapping; the pool is the product's DB_POOL_MAX.
 */
export const PEER_SETTINGS: PeerSettings = {
  workers: 4,
  batchSize: 256,
  pollingIntervalSeconds: 0.5,
  poolMax: Number(dispatchSettings("postgres").env.DB_POOL_MAX),
  retry: { retryLimit: 5, retryDelay: 1, retryBackoff: true },
};

const peerNote = (s: PeerSettings) =>
  `${s.workers} workers x batch ${s.batchSize} (POSTed at once), polling ${s.pollingIntervalSeconds} s, pool ${s.poolMax}; retry limit ${s.retry.retryLimit}, delay ${s.retry.retryDelay} s${
    s.retry.retryBackoff ? " with backoff" : ""
  }`;

/** Exposure (ms) of each removal the sandbox applied among `eventIds` (all when null) since `since`. */
function exposures(
  sandbox: SandboxHandle,
  since: number,
  from: number,
  eventIds: ReadonlySet<string> | null,
) {
  return sandbox.state.events.slice(from)
    .filter((e) =>
      e.eventType === "certification.expired" && (eventIds === null || eventIds.has(e.eventId))
    )
    .map((e) => Date.parse(e.receivedAt) - since);
}

export const peerQueue: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    if (!ctx.adminUrl) {
      return [note(NAME, "skipped", "PGlite has no server for pg-boss to connect to")];
    }
    const adminUrl = ctx.adminUrl;
    const count = ctx.smoke ? 300 : 10_000;
    const timeoutMs = ctx.smoke ? 30_000 : 180_000;
    const settings = dispatchSettings("postgres");
    const bench = await startBenchStack({ adminUrl, env: freshSecrets(), scheduler: false });
    const { stack } = bench;
    const sandbox = stack.sandbox!;
    const peerDatabase = `hlf_bench_peer_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    let killPeer = () => {};
    let stopProduct = async () => {};
    try {
      // The product: scenario 2's run without the callbacks.
      const deployed = await startDeployedDispatch(stack, settings.env, { callbacks: false });
      stopProduct = deployed.stop;
      const product = await runMassDispatch(stack, {
        count,
        dispatchers: settings.dispatchers,
        timeoutMs,
        progress: (line) => ctx.progress(`product: ${line}`),
        sweep: deployed.sweep,
        pids: deployed.pids,
      });
      await stopProduct();
      const productExposure = summarize(exposures(sandbox, product.committedAt, 0, null));
      const productDelivered = count - product.undelivered;

      // The peer: same mentors, new event ids, the same sandbox.
      const rows = await stack.sql<
        { mentor_id: string; expires_at: Date; renewal_history: RenewalRecord[] | null }[]
      >`select mentor_id, expires_at, renewal_history from public.certifications`;
      const peerDatabaseUrl = await createDatabase(adminUrl, peerDatabase);
      const startupStarted = Date.now();
      const peer = await forkPeer({
        databaseUrl: peerDatabaseUrl,
        outbound: configured(stack.config.outbound, "outbound"),
        settings: PEER_SETTINGS,
      }, (message) => ctx.progress(`peer error: ${message}`));
      killPeer = () => peer.kill();
      const startupMs = Date.now() - startupStarted;
      const occurredAt = new Date().toISOString();
      const jobs: RemovalJob[] = rows.map((r) => ({
        eventId: randomUUID(),
        mentorId: r.mentor_id,
        occurredAt,
        expiryDate: r.expires_at.toISOString(),
        renewalHistory: r.renewal_history ?? [],
      }));
      const eventIds = new Set(jobs.map((j) => j.eventId));
      const firstEvent = sandbox.state.events.length;
      ctx.progress(`peer: pg-boss started in ${startupMs} ms; enqueueing ${jobs.length} jobs`);

      const { startedAt: t0, committedAt: enqueuedAt } = await peer.enqueue(jobs);
      const applied = () => {
        let n = 0;
        for (const id of eventIds) if (sandbox.state.seenEventIds.has(id)) n += 1;
        return n;
      };
      await waitFor(() => applied() === jobs.length, { timeoutMs, everyMs: COMPLETION_POLL_MS });
      const stopped = await peer.stop();
      const peerCpuMs = stopped.cpuMs - peer.startedCpuMs;
      const peerTimes = exposures(sandbox, enqueuedAt, firstEvent, eventIds);
      const peerExposure = summarize(peerTimes);
      const peerDelivered = peerTimes.length;
      const peerMakespanMs = peerDelivered ? Math.max(...peerTimes) + enqueuedAt - t0 : NaN;

      const productRate = productDelivered / (product.makespanMs / 1000);
      const peerRate = peerDelivered / (peerMakespanMs / 1000);
      return [
        figure(NAME, "product: deliveries/s", productRate, ""),
        figure(NAME, "peer: deliveries/s", peerRate, ""),
        figure(NAME, "product / peer", productRate / peerRate, "", atLeast(1)),
        figure(NAME, "product: exposure p50", productExposure.p50, " ms"),
        figure(NAME, "product: exposure p99", productExposure.p99, " ms"),
        figure(NAME, "peer: exposure p50", peerExposure.p50, " ms"),
        figure(NAME, "peer: exposure p99", peerExposure.p99, " ms"),
        figure(NAME, "product: removals missing", product.undelivered, "", exactly(0)),
        figure(NAME, "peer: removals missing", count - peerDelivered, "", exactly(0)),
        figure(
          NAME,
          "product: sender CPU per delivery",
          (product.cpu.functions ?? NaN) / productDelivered,
          " ms",
        ),
        figure(NAME, "peer: sender CPU per delivery", peerCpuMs / peerDelivered, " ms"),
        note(
          NAME,
          "peer: requests",
          `${stopped.counters?.posts} POSTs, ${stopped.counters?.failedPosts} failed`,
        ),
        figure(NAME, "peer: pg-boss start-up", startupMs, " ms"),
        note(
          NAME,
          "product: CPU ms per delivery",
          cpuNote(product.cpu, productDelivered, true, "sync-retry"),
        ),
        note(
          NAME,
          "product settings",
          `${product.expired} expired; ${settingsNote(settings)}; confirmation callbacks off; ` +
            "sync-retry in the deployed shape",
        ),
        note(NAME, "peer settings", peerNote(PEER_SETTINGS)),
      ];
    } finally {
      killPeer();
      await stopProduct();
      await dropDatabase(adminUrl, peerDatabase);
      await bench.close();
    }
  },
};
