// Scenario 1: the exposure window. One certification expires at a time; the window is from the
// moment its COMMIT returns to the moment the sandbox applied the removal (the sandbox runs in this
// process and stamps receivedAt when it applies an event). Dispatch is the stack's own nudge:
// LISTEN/NOTIFY on Postgres, the 25 ms poll on PGlite.
import postgres from "postgres";
import { startBenchStack } from "../bench-stack.ts";
import { atMost, type Figure, figure, note } from "../results.ts";
import { type Scenario, type ScenarioContext, sleep, waitFor } from "../scenario.ts";
import { seedSyncedMentors } from "../seed.ts";
import { summarize } from "../stats.ts";

const NAME = "1 exposure window";
// The first deliveries also fetch the OAuth token and open connections; they are not measured.
const WARM_UP = 3;

export const exposureWindow: Scenario = {
  name: NAME,
  async run(ctx: ScenarioContext): Promise<Figure[]> {
    const expiries = ctx.smoke ? 10 : 200;
    const bench = await startBenchStack({ adminUrl: ctx.adminUrl });
    const { stack } = bench;
    const sandbox = stack.sandbox!;
    const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const mentors = await seedSyncedMentors(stack.sql, WARM_UP + expiries);
      const windows: number[] = [];
      for (const [i, mentorId] of mentors.entries()) {
        // A random pause de-phases the expiries from the PGlite poll timer.
        await sleep(Math.random() * 25);
        await sql`update public.certifications set status = 'expired' where mentor_id = ${mentorId}`;
        const committedAt = Date.now();
        const removed = await waitFor(
          () => sandbox.state.listings.get(mentorId)?.listing === "unlisted",
          { timeoutMs: 10_000 },
        );
        if (!removed) throw new Error(`expiry ${i}: no removal within 10 s`);
        const receivedAt = Date.parse(sandbox.state.listings.get(mentorId)!.updatedAt);
        if (i >= WARM_UP) windows.push(receivedAt - committedAt);
        if ((i + 1) % 50 === 0) ctx.progress(`${i + 1 - WARM_UP}/${expiries} expiries`);
      }
      const s = summarize(windows);
      return [
        figure(NAME, "p50", s.p50, " ms", atMost(50, " ms")),
        figure(NAME, "p95", s.p95, " ms"),
        figure(NAME, "p99", s.p99, " ms", atMost(250, " ms")),
        figure(NAME, "max", s.max, " ms"),
        note(
          NAME,
          "setup",
          `${s.count} expiries one at a time (+${WARM_UP} warm-up), nudge: ${
            stack.engine === "postgres" ? "LISTEN/NOTIFY" : "25 ms poll"
          }`,
        ),
      ];
    } finally {
      await sql.end({ timeout: 5 });
      await bench.close();
    }
  },
};
