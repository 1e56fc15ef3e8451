import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    exclude: ["tests/long/**", "tests/deploy/**", "node_modules/**"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Database-backed files each get their own database; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
