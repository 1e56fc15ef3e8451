// Released migrations never change: every migration file is recorded in migrations.lock.json with
// the SHA-256 it was released with (README, "Migrations are append-only").
import { describe, expect, it } from "vitest";
import { compareLock, hashMigrations, readLock, sha256 } from "../../tools/migration-lock.ts";

describe("the migration lock", () => {
  it("records every migration file exactly as it is", async () => {
    // On failure: a released file was edited, renamed or removed (restore it and add a new
    // migration instead), or a new file is not recorded yet (`npm run migrations:lock`).
    expect(compareLock(await readLock(), await hashMigrations())).toEqual([]);
  });

  it("reports a changed, a removed and an unrecorded file", () => {
    const lock = { "1_a.sql": sha256("a"), "2_b.sql": sha256("b"), "3_c.sql": sha256("c") };
    const actual = { "1_a.sql": sha256("a"), "2_b.sql": sha256("b\n"), "4_d.sql": sha256("d") };
    expect(compareLock(lock, actual)).toEqual([
      { kind: "changed", file: "2_b.sql" },
      { kind: "missing", file: "3_c.sql" },
      { kind: "unrecorded", file: "4_d.sql" },
    ]);
  });

  it("sees a rename as a removal plus an unrecorded file", () => {
    const lock = { "1_a.sql": sha256("a") };
    expect(compareLock(lock, { "1_renamed.sql": sha256("a") })).toEqual([
      { kind: "missing", file: "1_a.sql" },
      { kind: "unrecorded", file: "1_renamed.sql" },
    ]);
  });
});
