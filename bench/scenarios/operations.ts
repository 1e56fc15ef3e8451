// Scenario 6: operations on a large install (100,000 mentors, 1,000,000 audit attempts spread over
// 90 days): sync-health polled through the gateway and its one statement's plan, then one
// sync-reconcile run reading 100,000 portal listings (1 % of them flipped behind our back).
import type { ListingRecord } from "../../local/dynamics-sandbox/state.ts";
import { executionMs, explainAs } from "../explain.ts";
import { startLargeInstall } from "../large-install.ts";
import { loadFigures, runLoad } from "../load.ts";
import { atMost, exactly, type Figure, figure, note } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";

const NAME = "6 operations";
// A monitoring system and a dashboard or two polling at once.
const CONNECTIONS = 2;

export const operations: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const { bench, size, durationSeconds } = await startLargeInstall(ctx, { spreadDays: 90 });
    const flipped = size.mentors / 100;
    const { stack } = bench;
    // RECONCILE_PAGE_SIZE's default: Dataverse's largest page.
    const { pageSize } = stack.config.reconcile;
    try {
      const headers = { authorization: `Bearer ${stack.serviceRoleKey}` };

      const health = await runLoad({
        url: `${stack.functionsUrl}/sync-health`,
        method: "GET",
        connections: CONNECTIONS,
        durationSeconds,
        headers,
      });
      // The statement's own cost, without HTTP and JSON around it.
      const plan = await explainAs(
        stack.sql,
        { role: "service_role", userId: null, claims: { role: "service_role" } },
        (sql) => sql`select public.sync_health(${true}) as health`,
      );

      // The portal: every mentor listed, 1 % of them unlisted by hand.
      const sandbox = stack.sandbox!;
      const mentors = await stack.sql<{ mentor_id: string }[]>`
        select mentor_id from public.mentor_listing_state order by mentor_id`;
      const now = new Date().toISOString();
      for (const [i, { mentor_id: mentorId }] of mentors.entries()) {
        const record: ListingRecord = {
          mentorId,
          listing: i % 100 === 0 ? "unlisted" : "listed",
          lastEventId: null,
          lastEventType: null,
          occurredAt: null,
          expiryDate: null,
          renewalHistory: null,
          updatedAt: now,
          changes: 1,
          source: "editor",
        };
        sandbox.state.listings.set(mentorId, record);
      }
      const started = performance.now();
      const response = await fetch(`${stack.functionsUrl}/sync-reconcile`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: "{}",
      });
      const run = await response.json();
      const reconcileMs = performance.now() - started;
      ctx.progress(`reconcile: ${JSON.stringify(run)}`);

      return [
        ...loadFigures(NAME, "sync-health", health, { p50: atMost(10, " ms") }),
        figure(NAME, "sync-health: statement execution", executionMs(plan), " ms"),
        figure(NAME, "reconcile: listings checked", run.checked ?? 0, "", exactly(size.mentors)),
        figure(NAME, "reconcile: drift found", run.drift ?? 0, "", exactly(flipped)),
        figure(
          NAME,
          "reconcile: Dynamics requests",
          run.requests ?? 0,
          "",
          exactly(Math.ceil(size.mentors / pageSize)),
        ),
        figure(NAME, "reconcile: run time", reconcileMs, " ms"),
        note(
          NAME,
          "settings",
          `${size.mentors} mentors, ${
            size.mentors * size.attemptsPerMentor
          } attempts over 90 days; health: ${CONNECTIONS} connections x ${durationSeconds} s; reconcile: pages of ${pageSize}, ${flipped} listings flipped`,
        ),
      ];
    } finally {
      await bench.close();
    }
  },
};
