// Run under Deno by tests/db/type-fetch-rejection.test.ts. A function booted as every deployed
// function is (bootFunction), or with `--bare` only the product's pool, runs one query on a new
// connection whose start-up query the test kills, then says whether the process still runs.
import { createSql, type Sql } from "../../shared/db.ts";
import { bootFunction } from "../../shared/serve.ts";

const url = Deno.env.get("SUPABASE_DB_URL")!;
let sql: Sql | undefined;
if (Deno.args.includes("--bare")) {
  sql = createSql({ url, poolMax: 1 });
} else {
  bootFunction({
    name: "type-fetch-probe",
    needs: ["database"],
    createApp: (rt) => {
      sql = rt.sql;
      return { fetch: () => new Response(null, { status: 204 }) };
    },
  }, { SUPABASE_DB_URL: url, LOG_LEVEL: "info" });
}
// Whatever the driver answers this query, the process must live on.
await sql!`select 1`.catch(() => {});
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(JSON.stringify({ msg: "still running" }));
await sql!.end({ timeout: 1 });
