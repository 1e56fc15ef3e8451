// Sustained load on loopback (issue 8, item 7): the inbound webhook and sync-status under concurrent
// load for a bounded time each (autocannon), through the gateway under Deno. No errors, no non-2xx
// (duplicates are designed and answer 200), every accepted delivery stored exactly once, and the
// gateway's memory flat once warm. Figures are printed for RELIABILITY.md; nothing here is timed.
import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import { INBOUND_SECRET, signedDelivery, writeCounts } from "../support/inbound-delivery.ts";
import { listingConfirmed } from "../support/payload-factory.ts";
import { mib, type RssFigures, rssFigures, rssKiB, sampleRss } from "../support/rss-sampler.ts";
import { startTestStack, type TestStack } from "../support/stack.ts";

const SECONDS = 20;
/**
 * Inbound deliveries before the measured windows: the gateway's heap grows over its first ~5,000
 * requests (measured: +100 MiB, then flat within ~11 MiB over the next 11,000), which is warm-up,
 * not a leak.
 */
const WARMUP_REQUESTS = 6_000;
const CONNECTIONS = 20;
const MENTORS = 100;
/** Distinct signed deliveries measured; past them the pool repeats, as designed duplicates. */
const POOL = 20_000;
/** Generous: a leak under this load grows by far more; warm-up noise stays well below. */
const MAX_GROWTH_MIB = 64;

let db: TestDatabase;
let t: TestStack;
let mentorIds: string[];
let coordinatorJwt: string;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestStack({
    db,
    env: {
      DYNAMICS_INBOUND_SECRETS: INBOUND_SECRET,
      // PGlite serialises every client anyway; real Postgres gets a pool worth the concurrency.
      DB_POOL_MAX: db.engine === "postgres" ? "10" : "2",
    },
  });
  const org = await createOrganisation(db.sql);
  const chapter = await createChapter(db.sql, { organisationId: org.id });
  mentorIds = [];
  for (let i = 0; i < MENTORS; i++) {
    mentorIds.push((await createListedMentor(db.sql, { chapterIds: [chapter.id] })).mentorId);
  }
  coordinatorJwt = await t.userJwt((await createCoordinator(db.sql, [chapter.id])).id);
}, 180_000);
afterAll(async () => {
  console.info(`load figures (${db?.engine}): ${JSON.stringify(figures, null, 2)}`);
  const problems = t?.lines.filter((l) => /"level":"(warn|error)"/.test(l)) ?? [];
  if (problems.length > 0) console.info(`gateway warnings and errors:\n${problems.join("\n")}`);
  await t?.close();
  await db?.close();
});

/** The parts of autocannon's result this file reads (the package ships no types). */
interface LoadResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface Request {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

interface LoadOptions {
  url: string;
  requests: {
    setupRequest: (request: Request) => Request;
    onResponse: (status: number, body: string) => void;
  }[];
}

const run = (opts: LoadOptions & ({ duration: number } | { amount: number })) =>
  autocannon({ connections: CONNECTIONS, timeout: 10, ...opts }) as Promise<LoadResult>;

interface Load {
  result: LoadResult;
  memory: RssFigures;
}

/** `SECONDS` of load while the gateway's memory is sampled. */
async function measured(opts: LoadOptions): Promise<Load> {
  const sampler = sampleRss(t.stack.gatewayPid);
  const result = await run({ ...opts, duration: SECONDS });
  return { result, memory: rssFigures(await sampler.stop()) };
}

function summary({ result, memory }: Load) {
  return {
    seconds: SECONDS,
    requests: result.requests.total,
    perSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    memory,
  };
}

function expectNoErrors(result: LoadResult) {
  expect(result.requests.total).toBeGreaterThan(0);
  expect({ non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts })
    .toEqual({ non2xx: 0, errors: 0, timeouts: 0 });
}

/** Signed listing.confirmed deliveries (HLF scheme: no timestamp to go stale while queued). */
const signedPool = (size: number) =>
  Promise.all(
    Array.from(
      { length: size },
      (_, i) =>
        signedDelivery(listingConfirmed({ mentorId: mentorIds[i % MENTORS] }), { scheme: "hlf" }),
    ),
  );

/** Load that sends `pool` in order (repeating past its end) and tallies the answers. */
function inboundLoad(pool: Awaited<ReturnType<typeof signedPool>>) {
  // Any other answer is kept with its status and body, so a failure says what the gateway answered.
  const tally = { sent: 0, accepted: new Set<string>(), duplicate: 0, other: [] as string[] };
  const options: LoadOptions = {
    url: `${t.stack.functionsUrl}/dynamics-webhook`,
    requests: [{
      setupRequest: (request) => ({ ...request, ...pool[tally.sent++ % pool.length] }),
      onResponse: (status, body) => {
        const answer = status === 200 ? JSON.parse(body) : { status: "other" };
        if (answer.status === "accepted") tally.accepted.add(answer.eventId);
        else if (answer.status === "duplicate") tally.duplicate += 1;
        else tally.other.push(`${status} ${body.slice(0, 300)}`);
      },
    }],
  };
  return { options, tally };
}

describe("sustained load through the gateway", () => {
  it(`warm-up: ${WARMUP_REQUESTS} inbound deliveries`, async () => {
    const coldMiB = mib(await rssKiB(t.stack.gatewayPid));
    const { options, tally } = inboundLoad(await signedPool(WARMUP_REQUESTS));
    const result = await run({ ...options, amount: WARMUP_REQUESTS });
    figures.warmup = {
      requests: result.requests.total,
      coldMiB,
      warmMiB: mib(await rssKiB(t.stack.gatewayPid)),
    };
    expect(tally.other).toEqual([]);
    expectNoErrors(result);
    expect(tally.accepted.size).toBe(WARMUP_REQUESTS);
  }, 300_000);

  it(`inbound webhook: ${SECONDS} s at ${CONNECTIONS} connections`, async () => {
    const { options, tally } = inboundLoad(await signedPool(POOL));
    const before = await writeCounts(db.sql);
    const load = await measured(options);
    const distinct = Math.min(tally.sent, POOL);
    figures.inbound = {
      ...summary(load),
      answers: {
        accepted: tally.accepted.size,
        duplicate: tally.duplicate,
        other: tally.other.length,
      },
      distinctDeliveries: distinct,
    };
    expect(tally.other).toEqual([]);
    expectNoErrors(load.result);
    expect(load.memory.growthMiB).toBeLessThan(MAX_GROWTH_MIB);
    // Every answered delivery was accepted once or recognised as a repeat, and what was accepted is
    // stored; deliveries still in flight when the clock ran out may be stored unanswered.
    expect(tally.accepted.size + tally.duplicate).toBe(load.result.requests.total);
    const [stored] = await db.sql`
      select count(*)::int as n from public.cert_notification_log
      where event_id = any(${[...tally.accepted]}::uuid[])`;
    expect(stored.n).toBe(tally.accepted.size);
    const growth = (await writeCounts(db.sql)).ledger - before.ledger;
    expect(growth).toBeGreaterThanOrEqual(tally.accepted.size);
    expect(growth).toBeLessThanOrEqual(distinct);
  }, (SECONDS + 120) * 1000);

  it(
    `sync-status by mentor and list mode: ${SECONDS} s at ${CONNECTIONS} connections`,
    async () => {
      let next = 0;
      const headers = { authorization: `Bearer ${coordinatorJwt}` };
      const base = `${new URL(t.stack.functionsUrl).pathname}/sync-status`;
      let listed = 0;
      const load = await measured({
        url: t.stack.functionsUrl,
        requests: [{
          setupRequest: (request) => {
            const i = next++;
            // Every fifth request is the dashboard's list; the rest are the app's one-mentor reads.
            const path = i % 5 === 0
              ? `${base}?list=true&limit=50`
              : `${base}?mentorId=${mentorIds[i % MENTORS]}`;
            return { ...request, method: "GET", path, headers };
          },
          onResponse: (status, body) => {
            if (status === 200 && "items" in JSON.parse(body)) listed += 1;
          },
        }],
      });
      figures.status = { ...summary(load), listRequests: listed };
      expectNoErrors(load.result);
      expect(load.memory.growthMiB).toBeLessThan(MAX_GROWTH_MIB);
      expect(listed).toBeGreaterThan(0);
    },
    (SECONDS + 120) * 1000,
  );
});
