// `npm run seed`: loads the demo data into the running local stack's database (or DATABASE_URL).
import postgres from "postgres";
import { loadConfig, readEnvironment } from "../shared/config.ts";
import { localSettings } from "./env.ts";
import { DEMO, seedDemo } from "./seed-data.ts";

const env = readEnvironment();
// The configured server, or the running stack's embedded PGlite on its wire-protocol port.
const url = loadConfig(env).database?.url ??
  `postgres://postgres@127.0.0.1:${localSettings(env).ports.database}/postgres`;
const sql = postgres(url, { max: 1, onnotice: () => {} });
try {
  await seedDemo(sql);
  console.log(`demo data loaded: coordinator ${DEMO.coordinatorEmail}, mentor ${DEMO.mentorId}`);
} catch (err) {
  console.error(`seeding failed (is \`npm start\` running?): ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
}
