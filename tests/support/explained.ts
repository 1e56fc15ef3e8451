// What a piece of work asked Postgres to run, and how Postgres ran it: auto_explain reports every
// statement (nested ones too: trigger and function bodies) as JSON notices, captured here. Postgres
// only (LOAD needs a superuser; PGlite has no auto_explain); one transaction, so the settings hold
// behind a transaction pooler too.
import type postgres from "postgres";
import type { TestDatabase } from "./db.ts";

export interface ExplainedStatement {
  "Query Text": string;
  Plan: PlanNode;
  JIT?: { Functions: number };
}

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  /** With `auto_explain.log_analyze`. */
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

/** Every node of `plan`, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

export async function explained<T>(
  db: TestDatabase,
  settings: string,
  work: (sql: postgres.Sql) => Promise<T>,
): Promise<{ result: T; statements: ExplainedStatement[] }> {
  const statements: ExplainedStatement[] = [];
  const session = db.connect({
    max: 1,
    onnotice: (notice) => {
      const json = /plan:\s*(\{[\s\S]*\})\s*$/.exec(String(notice.message))?.[1];
      if (json) statements.push(JSON.parse(json) as ExplainedStatement);
    },
  });
  try {
    await session.unsafe(`
      load 'auto_explain';
      set auto_explain.log_min_duration = 0;
      set auto_explain.log_nested_statements = on;
      set auto_explain.log_format = json;
      set auto_explain.log_level = notice;
      ${settings}`);
    return { result: await work(session), statements };
  } finally {
    await session.end();
  }
}
