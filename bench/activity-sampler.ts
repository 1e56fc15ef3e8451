// What the database's client backends are doing while a load runs, sampled from pg_stat_activity:
// how many are active at once, and what the active ones wait on (nothing: running on a core). The
// evidence for where requests spend their time when the machine's cores are not saturated.
// Postgres only: PGlite is one session in the bench's own process.
import postgres from "postgres";

export interface ActivityProfile {
  samples: number;
  /** Active client backends of the database, summed over the samples. */
  active: number;
  /** Active backend samples by what they waited on: "CPU" for none, else `type:event`. */
  waits: Map<string, number>;
}

export interface ActivitySampler {
  stop(): Promise<void>;
}

export const emptyProfile = (): ActivityProfile => ({ samples: 0, active: 0, waits: new Map() });

/**
 * Samples the client backends of `url`'s database every `everyMs` into `profile` until stopped
 * (one profile can gather several stretches, such as a scenario's rounds for one target).
 */
export function startActivitySampler(
  url: string,
  profile: ActivityProfile,
  everyMs = 20,
): ActivitySampler {
  // Its own connection, so a sample never waits behind the bench's queries.
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await sql<{ wait: string | null }[]>`
        select wait_event_type || ':' || wait_event as wait from pg_stat_activity
         where datname = current_database() and backend_type = 'client backend'
           and state = 'active' and pid <> pg_backend_pid()`;
      profile.samples += 1;
      profile.active += rows.length;
      for (const { wait } of rows) {
        const key = wait ?? "CPU";
        profile.waits.set(key, (profile.waits.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

/**
 * "2.1 active backends on average (400 samples); of their time: CPU 55 %, IO:WALSync 30 %, …",
 * the waits largest first, those under 2 % summed as "other".
 */
export function describeProfile(p: ActivityProfile): string {
  const mean = p.active / Math.max(1, p.samples);
  const shares = [...p.waits].sort((x, y) => y[1] - x[1]).map(([key, n]) =>
    [key, (100 * n) / Math.max(1, p.active)] as const
  );
  const shown = shares.filter(([, pct]) => pct >= 2);
  const other = shares.filter(([, pct]) => pct < 2).reduce((sum, [, pct]) => sum + pct, 0);
  const parts = shown.map(([key, pct]) => `${key} ${pct.toFixed(0)} %`);
  if (other > 0) parts.push(`other ${other.toFixed(0)} %`);
  return `${mean.toFixed(2)} active backends on average (${p.samples} samples)${
    parts.length ? `; of their time: ${parts.join(", ")}` : ""
  }`;
}
