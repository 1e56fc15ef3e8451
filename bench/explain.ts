// EXPLAIN (ANALYZE, BUFFERS) of the exact statement a status query function sends: the function
// runs against a stand-in for its query function that explains the first statement instead, sent
// as the product sends it (`callerSql`: the caller's role and claims, the values as literals).
import type postgres from "postgres";
import type { Caller } from "../shared/http/jwt.ts";
import { type CallerSql, callerSql, type Literal } from "../shared/http/caller-context.ts";

/** The plan of the first statement `fn` sends (it sees an empty result). */
export async function explainAs(
  sql: postgres.Sql,
  caller: Caller,
  fn: (sql: CallerSql) => Promise<unknown>,
): Promise<string> {
  const read = callerSql(sql, caller);
  let plan: string | null = null;
  const explaining = async (strings: TemplateStringsArray, ...values: Literal[]) => {
    if (plan === null) {
      const text = [`explain (analyze, buffers) ${strings[0]}`, ...strings.slice(1)];
      const rows = await read<{ "QUERY PLAN": string }[]>(
        text as unknown as TemplateStringsArray,
        ...values,
      );
      plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
    }
    return Object.assign([], { count: 0 });
  };
  await fn(explaining as CallerSql);
  if (plan === null) throw new Error("the function sent no query");
  return plan;
}

/** The indexes a text plan scans, e.g. ["mentor_sync_status_pkey"]. */
export function indexesUsed(plan: string): string[] {
  const names = [
    ...plan.matchAll(/(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (\S+)/g),
  ].map((m) => m[1]);
  return [...new Set(names)];
}

export function executionMs(plan: string): number {
  const match = /Execution Time: ([\d.]+) ms/.exec(plan);
  return match ? Number(match[1]) : Number.NaN;
}
