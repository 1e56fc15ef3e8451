import { defineConfig } from "vitest/config";

// `npm run test:long`: the long reliability suites (crash loops, 1,000-event fault matrix), same
// setup as vitest.config.ts with room for minutes-long tests.
export default defineConfig({
  test: {
    include: ["tests/long/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
  },
});
