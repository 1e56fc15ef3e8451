// `npm run seed`: loads the demo data into the running local stack's database (or DATABASE_URL).
import { withStackDatabase } from "./cli.ts";
import { DEMO, seedDemo } from "./seed-data.ts";

await withStackDatabase("seeding", async (sql) => {
  await seedDemo(sql);
  console.log(`demo data loaded: coordinator ${DEMO.coordinatorEmail}, mentor ${DEMO.mentorId}`);
});
