// Builds the run's migrated test-database template once (PGlite tarball or Postgres template
// database) and removes it when the run ends; see tests/support/db.ts.
import type { TestProject } from "vitest/node";
import { buildTestDatabaseTemplate } from "./db.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { template, dispose } = await buildTestDatabaseTemplate();
  project.provide("testDatabaseTemplate", template);
  return dispose;
}
