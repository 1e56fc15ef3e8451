// Scenario 5: sync-status under load on a large dataset (100,000 mentors, 1,000,000 audit rows):
// by-mentor lookups as a coordinator at fixed concurrency, the first list page of a 2,000-mentor
// chapter, its next pages by keyset cursor, and the plans of the queries as that coordinator. The
// function runs in the deployed shape (its own Deno process, bench/deployed.ts), as scenario 4 runs
// the webhook: deployed, Supabase's gateway checks the token with verify_jwt on its own machines,
// and the local gateway's forwarding and second verification are not the function's cost.
import { decodeCursor, fetchSyncStatus, listSyncStatus } from "../../shared/status-queries.ts";
import { executionMs, explainAs, indexesUsed } from "../explain.ts";
import { cpuBetween, cpuNote, sampleCpu } from "../process-usage.ts";
import { POOL_MAX, startLargeInstall } from "../large-install.ts";
import { deployedEnv, freshSecrets, fromRepository, startInDeployedShape } from "../deployed.ts";
import { loadFigures, type LoadResult, type RequestParts, runLoad } from "../load.ts";
import { atMost, type Figure, figure, note, type Target } from "../results.ts";
import { median } from "../stats.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { configured } from "../../shared/config.ts";
import { createCallerVerifier } from "../../shared/http/jwt.ts";
import type { SyncStatusPage } from "../../shared/contract/api.ts";

const NAME = "5 status queries";
const CONNECTIONS = 8;
// The dashboard's list is an interactive page load, not a hot path: a couple at a time.
const LIST_CONNECTIONS = 2;

export const statusQueries: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const { bench, size, data, durationSeconds } = await startLargeInstall(ctx, {
      env: freshSecrets(),
    });
    const { stack } = bench;
    let stopFunction = async () => {};
    try {
      const fn = await startInDeployedShape(
        fromRepository("sync-status"),
        deployedEnv(stack, { DB_POOL_MAX: POOL_MAX }),
      );
      stopFunction = fn.stop;
      const token = await stack.mintJwt({
        role: "authenticated",
        sub: data.coordinatorId,
      });
      const headers = { authorization: `Bearer ${token}` };
      // Verified as the functions verify it (the gateway's JWKS), so a refused token fails here.
      const verified = await createCallerVerifier(configured(stack.config.callers, "callers"))
        .verify(new Headers(headers));
      if (!verified.ok) throw new Error(`the coordinator token did not verify: ${verified.reason}`);
      const url = fn.url;
      const path = new URL(url).pathname;

      let i = 0;
      // Where a by-mentor request's cost goes: the functions, the load driver, Postgres.
      const cpuBefore = await sampleCpu(fn.pid);
      const byMentor = await runLoad({
        url,
        method: "GET",
        connections: CONNECTIONS,
        durationSeconds,
        headers,
        next: () => ({
          path: `${path}?mentorId=${data.chapterMentorIds[i++ % data.chapterMentorIds.length]}`,
        }),
      });
      const byMentorCpu = cpuBetween(cpuBefore, await sampleCpu(fn.pid));
      const listUrl = `${url}?list=true&chapterId=${data.chapterId}`;
      const listLoad = (next?: () => RequestParts) =>
        runLoad({
          url: listUrl,
          method: "GET",
          connections: LIST_CONNECTIONS,
          durationSeconds,
          timeoutSeconds: 60,
          headers,
          next,
        });
      const list = await listLoad();
      /** One list page, the first without a cursor; throws unless it is answered 200. */
      const listPage = async (cursor: string | null): Promise<Response> => {
        const res = await fetch(`${listUrl}${cursor ? `&cursor=${cursor}` : ""}`, { headers });
        if (!res.ok) throw new Error(`list page: ${res.status} ${await res.text()}`);
        return res;
      };
      // Every later page of the chapter, walked once by cursor, then read in turn under load.
      const cursors: string[] = [];
      for (let cursor: string | null = null;;) {
        cursor = ((await (await listPage(cursor)).json()) as SyncStatusPage).nextCursor;
        if (cursor === null) break;
        cursors.push(cursor);
      }
      // Each page alone, the median of five reads: a p50 over all pages hides a stretch of slow
      // pages, as every page past the middle of the chapter once was, for its plan (see
      // candidates() in shared/status-queries.ts).
      const pageMs: number[] = [];
      for (const cursor of cursors) {
        const reads: number[] = [];
        for (let read = 0; read < 5; read++) {
          const started = performance.now();
          await (await listPage(cursor)).arrayBuffer();
          reads.push(performance.now() - started);
        }
        pageMs.push(median(reads));
      }
      const slowest = pageMs.indexOf(Math.max(...pageMs));
      let page = 0;
      const nextPages = await listLoad(() => ({
        path: `${path}?list=true&chapterId=${data.chapterId}&cursor=${
          cursors[page++ % cursors.length]
        }`,
      }));

      const mentorPlan = await explainAs(
        stack.sql,
        verified.caller,
        (sql) => fetchSyncStatus(sql, data.chapterMentorIds[0]),
      );
      const listFilter = { chapterId: data.chapterId, limit: 50, onlyViewable: true };
      const listPlan = await explainAs(
        stack.sql,
        verified.caller,
        (sql) => listSyncStatus(sql, listFilter),
      );
      // A page in the middle of the chapter.
      const nextPlan = await explainAs(
        stack.sql,
        verified.caller,
        (sql) =>
          listSyncStatus(sql, {
            ...listFilter,
            after: decodeCursor(cursors[Math.floor(cursors.length / 2)])!,
          }),
      );
      ctx.progress(`plan by mentor:\n${mentorPlan}`);
      ctx.progress(`plan list:\n${listPlan}`);
      ctx.progress(`plan next page:\n${nextPlan}`);
      const indexes = (plan: string) => indexesUsed(plan).join(", ") || "none (sequential scan)";
      const figuresOf = (
        label: string,
        r: LoadResult,
        plan: string,
        targets: { p50?: Target; p99?: Target },
      ) => [
        ...loadFigures(NAME, label, r, targets),
        figure(NAME, `${label}: plan execution`, executionMs(plan), " ms"),
        note(NAME, `${label}: indexes`, indexes(plan)),
      ];

      return [
        ...figuresOf("by mentor", byMentor, mentorPlan, { p99: atMost(10, " ms") }),
        note(
          NAME,
          "by mentor: CPU ms per request",
          cpuNote(byMentorCpu, byMentor.requests, ctx.adminUrl !== undefined),
        ),
        ...figuresOf("list page 1", list, listPlan, { p50: atMost(15, " ms") }),
        ...figuresOf("next page (keyset)", nextPages, nextPlan, { p50: atMost(15, " ms") }),
        figure(
          NAME,
          "slowest next page, alone (median of 5 reads)",
          pageMs[slowest],
          " ms",
          atMost(15, " ms"),
        ),
        note(
          NAME,
          "next pages, alone",
          `${pageMs.length} pages, median ${median(pageMs).toFixed(1)} ms; the slowest is page ${
            slowest + 2
          } of the chapter`,
        ),
        note(
          NAME,
          "settings",
          `${size.mentors} mentors, ${
            size.mentors * size.attemptsPerMentor
          } audit rows, chapter of ${size.bigChapterSize}; ${CONNECTIONS} (list: ${LIST_CONNECTIONS}) connections x ${durationSeconds} s, DB_POOL_MAX=${POOL_MAX}; the function in the deployed shape (its own process, no gateway)`,
        ),
      ];
    } finally {
      await stopFunction();
      await bench.close();
    }
  },
};
