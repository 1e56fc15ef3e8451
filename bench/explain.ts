// EXPLAIN (ANALYZE, BUFFERS) of the exact SQL a status query function sends: the function runs
// against a recording stand-in for the client, and the recorded text and parameters are then
// explained under the caller's role and claims, as the function's own query runs.
import type postgres from "postgres";
import type { Caller } from "../shared/http/jwt.ts";
import { asCaller } from "../shared/http/caller-context.ts";

export interface RecordedQuery {
  text: string;
  params: unknown[];
}

/** The first query `fn` sends (it sees an empty result). */
export async function recordQuery(
  fn: (sql: postgres.Sql) => Promise<unknown>,
): Promise<RecordedQuery> {
  let recorded: RecordedQuery | null = null;
  const tag = (strings: TemplateStringsArray, ...values: unknown[]) => {
    recorded ??= {
      text: strings.reduce((text, part, i) => `${text}$${i}${part}`),
      params: values,
    };
    return Promise.resolve(Object.assign([], { count: 0 }));
  };
  await fn(tag as unknown as postgres.Sql);
  if (!recorded) throw new Error("the function sent no query");
  return recorded;
}

export async function explainAs(
  sql: postgres.Sql,
  caller: Caller,
  query: RecordedQuery,
): Promise<string> {
  const rows = await asCaller(
    sql,
    caller,
    (tx) =>
      tx.unsafe<{ "QUERY PLAN": string }[]>(
        `explain (analyze, buffers) ${query.text}`,
        query.params as postgres.ParameterOrJSON<never>[],
      ),
  );
  return rows.map((r) => r["QUERY PLAN"]).join("\n");
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
