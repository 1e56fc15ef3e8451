import { describe, expect, it } from "vitest";
import { splitSqlStatements } from "../../local/db/sql-statements.ts";

describe("splitSqlStatements (Supabase CLI statement recording)", () => {
  it("splits on semicolons and trims the separator and surrounding whitespace", () => {
    expect(splitSqlStatements("create table a (x int);\n\n  insert into a values (1) ;\n"))
      .toEqual(["create table a (x int)", "insert into a values (1)"]);
  });

  it("keeps a final statement without a semicolon and drops empty ones", () => {
    expect(splitSqlStatements(";;select 1;  ;\nselect 2")).toEqual(["select 1", "select 2"]);
  });

  it("does not split inside quotes, quoted identifiers or comments", () => {
    const sql = [
      "select 'a;b', 'it''s;' as \"x;y\"; -- trailing; comment",
      "/* block; /* nested; */ still; */ select 2;",
    ].join("\n");
    expect(splitSqlStatements(sql)).toEqual([
      "select 'a;b', 'it''s;' as \"x;y\"",
      "-- trailing; comment\n/* block; /* nested; */ still; */ select 2",
    ]);
  });

  it("does not split inside dollar-quoted bodies, tagged or not", () => {
    const body =
      "create function f() returns int language plpgsql as $fn$ begin return 1; end $fn$";
    const doBlock = "do $$ begin perform 1; perform $1; end $$";
    expect(splitSqlStatements(`${body};\n${doBlock};`)).toEqual([body, doBlock]);
  });

  it("treats $1 parameters and identifiers with $ as plain text", () => {
    expect(splitSqlStatements("select a$b, $1; select 2")).toEqual(["select a$b, $1", "select 2"]);
  });
});
