// The large install scenarios 5 and 6 run on: a stack without timers (nothing runs but what a
// scenario measures) and with pools of 4, seeded with statusDatasetSize's mentors and audit
// attempts, then analysed.
import { type BenchStack, startBenchStack } from "./bench-stack.ts";
import type { ScenarioContext } from "./scenario.ts";
import { seedStatusDataset, type StatusDataset, statusDatasetSize } from "./seed.ts";

/** The functions' pool on the large install. */
export const POOL_MAX = "4";

export interface LargeInstall {
  bench: BenchStack;
  size: ReturnType<typeof statusDatasetSize>;
  data: StatusDataset;
  /** How long each load run lasts (short in smoke runs). */
  durationSeconds: number;
}

/**
 * Starts and seeds it; the caller closes `bench`. `spreadDays` as in seedStatusDataset; `env` adds
 * to the stack's environment (fresh secrets for a function started in the deployed shape).
 */
export async function startLargeInstall(
  ctx: ScenarioContext,
  o: { spreadDays?: number; env?: Record<string, string> } = {},
): Promise<LargeInstall> {
  const size = statusDatasetSize(ctx.smoke);
  const bench = await startBenchStack({
    adminUrl: ctx.adminUrl,
    env: { ...o.env, DB_POOL_MAX: POOL_MAX },
    scheduler: false,
  });
  const { sql } = bench.stack;
  try {
    const seedStarted = Date.now();
    const data = await seedStatusDataset(sql, { ...size, spreadDays: o.spreadDays });
    await sql`analyze`;
    ctx.progress(
      `seeded ${size.mentors} mentors, ${size.mentors * size.attemptsPerMentor} audit attempts in ${
        ((Date.now() - seedStarted) / 1000).toFixed(1)
      } s`,
    );
    return { bench, size, data, durationSeconds: ctx.smoke ? 1 : 10 };
  } catch (error) {
    await bench.close();
    throw error;
  }
}
