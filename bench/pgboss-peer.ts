// The peer of the "peer queue" scenario: what a Node team would build instead of the product's
// outbox. A pg-boss queue (its own schema, in a database of its own) holds one removal job per
// lapsed mentor, enqueued by one batch insert; polling workers build the v1 payload
// (shared/contract/payload.ts), sign it as the product does (shared/contract/signer.ts) and POST it
// with plain `fetch`, a failed POST failing its job so pg-boss retries it with the queue's retry
// settings. It does not audit attempts, keep per-mentor order, update a status or handle Dynamics'
// confirmations: the product does all four.
import PgBoss from "pg-boss";
import { buildPayload, type RenewalRecord, toJson } from "../shared/contract/payload.ts";
import { outboundHeaders } from "../shared/contract/signer.ts";
import type { OutboundConfig } from "../shared/config.ts";

const QUEUE = "dynamics-removals";

export interface PeerSettings {
  /** `work()` calls: independent polling loops. */
  workers: number;
  /** Jobs one fetch takes; they are POSTed concurrently. */
  batchSize: number;
  /** pg-boss's floor is 0.5 s: a worker whose batch took less waits out the rest. */
  pollingIntervalSeconds: number;
  /** Connections of pg-boss's pool (the product's DB_POOL_MAX). */
  poolMax: number;
  retry: { retryLimit: number; retryDelay: number; retryBackoff: boolean };
}

export interface RemovalJob {
  eventId: string;
  mentorId: string;
  occurredAt: string;
  expiryDate: string;
  renewalHistory: RenewalRecord[];
}

export interface PeerCounters {
  posts: number;
  failedPosts: number;
}

export interface Peer {
  /** One batch insert of every job; resolves when it committed. */
  enqueue(jobs: readonly RemovalJob[]): Promise<void>;
  counters: PeerCounters;
  stop(): Promise<void>;
}

/** The credential headers, fetched once as a Node team would (client-credentials token). */
async function authorization(auth: OutboundConfig["auth"]): Promise<Record<string, string>> {
  if (auth.mode === "apikey") return { [auth.header]: auth.key };
  const response = await fetch(auth.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: auth.clientId,
      client_secret: auth.clientSecret,
      scope: auth.scope,
    }),
  });
  if (!response.ok) throw new Error(`peer: token endpoint answered ${response.status}`);
  const { access_token: token } = await response.json() as { access_token: string };
  return { authorization: `Bearer ${token}` };
}

export async function startPeer(o: {
  databaseUrl: string;
  outbound: OutboundConfig;
  settings: PeerSettings;
  onError: (err: unknown) => void;
}): Promise<Peer> {
  const { settings, outbound } = o;
  const boss = new PgBoss({ connectionString: o.databaseUrl, max: settings.poolMax });
  boss.on("error", o.onError);
  await boss.start();
  await boss.createQueue(QUEUE, { name: QUEUE, ...settings.retry });
  const credentials = await authorization(outbound.auth);
  const counters: PeerCounters = { posts: 0, failedPosts: 0 };

  async function post(job: RemovalJob): Promise<void> {
    const body = toJson(buildPayload({
      eventId: job.eventId,
      eventType: "certification.expired",
      occurredAt: new Date(job.occurredAt),
      mentorId: job.mentorId,
      certificationStatus: "expired",
      expiryDate: new Date(job.expiryDate),
      renewalHistory: job.renewalHistory,
    }));
    const signed = await outboundHeaders({
      id: job.eventId,
      body,
      secret: outbound.signingSecret,
      timestampSeconds: Date.now() / 1000,
    });
    counters.posts += 1;
    const response = await fetch(outbound.webhookUrl, {
      method: "POST",
      headers: { ...signed, ...credentials },
      body,
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`POST answered ${response.status}`);
  }

  for (let i = 0; i < settings.workers; i++) {
    await boss.work<RemovalJob>(
      QUEUE,
      { batchSize: settings.batchSize, pollingIntervalSeconds: settings.pollingIntervalSeconds },
      async (jobs) => {
        const failed: string[] = [];
        await Promise.all(jobs.map((job) =>
          post(job.data).catch(() => {
            counters.failedPosts += 1;
            failed.push(job.id);
          })
        ));
        // Failed first, so the completion pg-boss does on return leaves them for a retry.
        if (failed.length > 0) await boss.fail(QUEUE, failed);
      },
    );
  }

  return {
    counters,
    async enqueue(jobs) {
      await boss.insert(jobs.map((data) => ({ id: data.eventId, name: QUEUE, data })));
    },
    stop: () => boss.stop({ wait: true, timeout: 5_000 }),
  };
}
