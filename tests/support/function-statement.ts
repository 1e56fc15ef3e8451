// The one statement a private SQL or plpgsql function runs, from its source in pg_proc: what plan
// tests prepare and explain, and what a session's kept plans are named by.
import type postgres from "postgres";

export async function functionStatement(sql: postgres.Sql, name: string): Promise<string> {
  const [{ body }] = await sql<{ body: string }[]>`
    select p.prosrc as body from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'private' and p.proname = ${name}`;
  return body.trim()
    .replace(/^begin\s+(return query\s+)?/i, "")
    .replace(/;?\s*end;?$/i, "")
    .trim();
}
