// Run under Deno by tests/db/type-fetch-rejection.test.ts. A function booted as every deployed
// function is (bootFunction), or with `--product-pool` only the product's pool, or with
// `--driver-defaults` a postgres.js pool as the driver configures it by default, runs one query on a
// new connection through the test's proxy, then says whether the process still runs.
import postgres from "postgres";
import { createSql, type Sql } from "../../shared/db.ts";
import { bootFunction } from "../../shared/serve.ts";

const url = Deno.env.get("SUPABASE_DB_URL")!;
let sql: Sql | undefined;
if (Deno.args.includes("--driver-defaults")) {
  sql = postgres(url, { max: 1 });
} else if (Deno.args.includes("--product-pool")) {
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
