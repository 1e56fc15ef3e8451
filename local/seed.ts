// `npm run seed`: loads the demo data into the running local stack's database (or DATABASE_URL).
import postgres from "postgres";
import { loadConfig } from "../shared/config.ts";
import { databaseUrl } from "../shared/db.ts";
import { DEMO, seedDemo } from "./seed-data.ts";

const sql = postgres(databaseUrl(loadConfig()), { max: 1, onnotice: () => {} });
try {
  await seedDemo(sql);
  console.log(`demo data loaded: coordinator ${DEMO.coordinatorEmail}, mentor ${DEMO.mentorId}`);
} catch (err) {
  console.error(`seeding failed (is \`npm start\` running?): ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
}
