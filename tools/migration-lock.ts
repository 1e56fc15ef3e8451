// Released migrations are append-only: migrations.lock.json records the SHA-256 of every migration
// file as released, and tests/unit/migration-lock.test.ts fails when one is changed, renamed or
// removed, or when a migration file is not recorded. `npm run migrations:lock` records the NEW files
// only; it refuses to rewrite an entry, so a changed release cannot be sealed again by accident
// (a fix is a new migration).
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MIGRATIONS_DIR } from "../local/db/migrate.ts";

export const LOCK_FILE = fileURLToPath(new URL("../migrations.lock.json", import.meta.url));

/** File name -> SHA-256 (hex) of its bytes. */
export type MigrationLock = Record<string, string>;

export type LockProblem =
  | { kind: "changed"; file: string }
  | { kind: "missing"; file: string }
  | { kind: "unrecorded"; file: string };

export const sha256 = (bytes: Uint8Array | string): string =>
  createHash("sha256").update(bytes).digest("hex");

export async function hashMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationLock> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const entries = await Promise.all(
    names.map(async (f) => [f, sha256(await readFile(join(dir, f)))] as const),
  );
  return Object.fromEntries(entries);
}

/** What differs between the recorded lock and the files on disk (empty when they agree). */
export function compareLock(lock: MigrationLock, actual: MigrationLock): LockProblem[] {
  const problems: LockProblem[] = [];
  for (const [file, hash] of Object.entries(lock)) {
    if (!(file in actual)) problems.push({ kind: "missing", file });
    else if (actual[file] !== hash) problems.push({ kind: "changed", file });
  }
  for (const file of Object.keys(actual)) {
    if (!(file in lock)) problems.push({ kind: "unrecorded", file });
  }
  return problems;
}

export async function readLock(path: string = LOCK_FILE): Promise<MigrationLock> {
  return JSON.parse(await readFile(path, "utf8")) as MigrationLock;
}

async function main(): Promise<void> {
  const lock = await readLock().catch(() => ({} as MigrationLock));
  const actual = await hashMigrations();
  const refused = compareLock(lock, actual).filter((p) => p.kind !== "unrecorded");
  if (refused.length > 0) {
    for (const p of refused) console.error(`${p.file}: ${p.kind} since it was released`);
    console.error("Released migrations are append-only: restore them and add a new migration.");
    process.exit(1);
  }
  const added = Object.keys(actual).filter((f) => !(f in lock));
  const next = Object.fromEntries(Object.entries({ ...lock, ...actual }).sort());
  await writeFile(LOCK_FILE, JSON.stringify(next, null, 2) + "\n");
  console.log(added.length ? `recorded: ${added.join(", ")}` : "nothing new to record");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
