// `npm run test:pooled`: the end-to-end core cases (expiry → removal, inbound webhooks, status under
// RLS) with PgBouncer in transaction mode between the functions and the real Postgres, as Supabase's
// transaction pooler serves deployed functions. Needs DATABASE_URL (a real Postgres) and Debian's
// pgbouncer. Fails if the functions' traffic did not actually pass through the pooler.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { startPgBouncer } from "../tests/support/pgbouncer.ts";

const CORE_CASES = ["tests/e2e/outbound-sync.test.ts", "tests/e2e/inbound-and-status.test.ts"];

const direct = process.env.DATABASE_URL;
if (!direct) {
  console.error("test:pooled needs DATABASE_URL (a real Postgres; PgBouncer sits in front of it)");
  process.exit(2);
}
const upstream = new URL(direct);
const pooler = await startPgBouncer({
  host: upstream.hostname,
  port: Number(upstream.port || 5432),
});
let code = 1;
try {
  const vitest = spawn("npx", ["vitest", "run", ...CORE_CASES], {
    stdio: "inherit",
    env: { ...process.env, TEST_POOLER_URL: pooler.url },
  });
  [code] = (await once(vitest, "exit")) as [number];
  const pooled = [...(await pooler.transactions())]
    .filter(([database, n]) => database.startsWith("hlf_test_") && n > 0);
  const total = pooled.reduce((sum, [, n]) => sum + n, 0);
  console.log(
    `PgBouncer (transaction mode) carried ${total} transactions for ${pooled.length} test databases`,
  );
  if (pooled.length < CORE_CASES.length) {
    console.error("the functions did not connect through PgBouncer");
    code ||= 1;
  }
} finally {
  await pooler.stop();
}
process.exit(code);
