// Scenario 5: sync-status under load on a large dataset (100,000 mentors, 1,000,000 audit rows):
// by-mentor lookups as a coordinator at fixed concurrency, the first list page of a 2,000-mentor
// chapter, and the plans of both queries as that coordinator (index use).
import { fetchSyncStatus, listSyncStatus } from "../../shared/status-queries.ts";
import { executionMs, explainAs, indexesUsed, recordQuery } from "../explain.ts";
import { startLargeInstall } from "../large-install.ts";
import { loadFigures, runLoad } from "../load.ts";
import { atMost, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { configured } from "../../shared/config.ts";
import { createCallerVerifier } from "../../shared/http/jwt.ts";

const NAME = "5 status queries";
const CONNECTIONS = 8;
// The dashboard's list is an interactive page load, not a hot path: a couple at a time.
const LIST_CONNECTIONS = 2;

export const statusQueries: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const { bench, size, data, durationSeconds } = await startLargeInstall(ctx);
    const { stack } = bench;
    try {
      const token = await stack.mintJwt({
        role: "authenticated",
        sub: data.coordinatorId,
      });
      const headers = { authorization: `Bearer ${token}` };
      // Verified as the functions verify it (the gateway's JWKS), so a refused token fails here.
      const verified = await createCallerVerifier(configured(stack.config.callers, "callers"))
        .verify(new Headers(headers));
      if (!verified.ok) throw new Error(`the coordinator token did not verify: ${verified.reason}`);
      const url = `${stack.functionsUrl}/sync-status`;

      let i = 0;
      const byMentor = await runLoad({
        url,
        method: "GET",
        connections: CONNECTIONS,
        durationSeconds,
        headers,
        next: () => ({
          path: `/functions/v1/sync-status?mentorId=${
            data.chapterMentorIds[i++ % data.chapterMentorIds.length]
          }`,
        }),
      });
      const list = await runLoad({
        url: `${url}?list=true&chapterId=${data.chapterId}`,
        method: "GET",
        connections: LIST_CONNECTIONS,
        durationSeconds,
        timeoutSeconds: 60,
        headers,
      });

      const mentorPlan = await explainAs(
        stack.sql,
        verified.caller,
        await recordQuery((sql) => fetchSyncStatus(sql, data.chapterMentorIds[0])),
      );
      const listPlan = await explainAs(
        stack.sql,
        verified.caller,
        await recordQuery((sql) =>
          listSyncStatus(sql, { chapterId: data.chapterId, limit: 50, onlyViewable: true })
        ),
      );
      ctx.progress(`plan by mentor:\n${mentorPlan}`);
      ctx.progress(`plan list:\n${listPlan}`);
      const indexes = (plan: string) => indexesUsed(plan).join(", ") || "none (sequential scan)";

      return [
        ...loadFigures(NAME, "by mentor", byMentor, { p99: atMost(10, " ms") }),
        figure(NAME, "by mentor: plan execution", executionMs(mentorPlan), " ms"),
        note(NAME, "by mentor: indexes", indexes(mentorPlan)),
        ...loadFigures(NAME, "list page 1", list),
        figure(NAME, "list page 1: plan execution", executionMs(listPlan), " ms"),
        note(NAME, "list page 1: indexes", indexes(listPlan)),
        note(
          NAME,
          "settings",
          `${size.mentors} mentors, ${
            size.mentors * size.attemptsPerMentor
          } audit rows, chapter of ${size.bigChapterSize}; ${CONNECTIONS} (list: ${LIST_CONNECTIONS}) connections x ${durationSeconds} s, DB_POOL_MAX=${
            configured(stack.config.database, "database").poolMax
          }`,
        ),
      ];
    } finally {
      await bench.close();
    }
  },
};
