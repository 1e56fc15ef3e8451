// Issue 16, item 5: the privilege table in RELIABILITY.md is the catalog's, on this engine, with a
// reason for every object that grants anything. `npm run privileges` regenerates it.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  committedTable,
  DOC,
  MISSING_REASON,
  type PrivilegeRow,
  readPrivileges,
  renderPrivilegeTable,
} from "../../tools/privileges.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let rows: PrivilegeRow[];

beforeAll(async () => {
  db = await createTestDatabase();
  rows = await readPrivileges(db.sql);
});
afterAll(async () => {
  await db?.close();
});

describe("the privilege table", () => {
  it("reads what the catalog says (the API roles' grants the migrations made)", () => {
    const grants = Object.fromEntries(rows.map((r) => [r.object, r.grants]));
    expect(grants["public.peer_mentors"]).toEqual({
      anon: "",
      authenticated: "SELECT, UPDATE(status)",
      service_role: "ALL",
    });
    expect(grants["public.sync_events_id_seq"]).toEqual({
      anon: "",
      authenticated: "",
      service_role: "ALL",
    });
    expect(grants["public.append_certification_renewal"]).toEqual({
      anon: "",
      authenticated: "EXECUTE",
      service_role: "EXECUTE",
    });
    // Trigger functions are executable by no API role and are not listed.
    expect(grants["private.refresh_listing_state"]).toBeUndefined();
  });

  it("has a reason for every object that grants anything", () => {
    expect(renderPrivilegeTable(rows)).not.toContain(MISSING_REASON);
  });

  it("in RELIABILITY.md equals the catalog's (run `npm run privileges` after a grant changes)", () => {
    const committed = committedTable(readFileSync(DOC, "utf8"));
    expect(committed, "run `npm run privileges`").toBe(renderPrivilegeTable(rows));
  });
});
