import { defineConfig } from "vitest/config";

// `npm run check:deploy`: the deployed shape (tests/deploy), on the real Postgres. Deploying and the
// first run of the uploaded functions (npm packages fetched into a fresh DENO_DIR) take a while.
export default defineConfig({
  test: {
    include: ["tests/deploy/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
