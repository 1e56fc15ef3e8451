import { describe, expect, it } from "vitest";
import { connectionFor } from "../../shared/db.ts";

describe("connectionFor", () => {
  it("keeps prepared statements on a direct connection and leaves the URL alone", () => {
    const direct = "postgres://postgres:pw@db.abcd.supabase.co:5432/postgres?sslmode=require";
    expect(connectionFor(direct)).toEqual({ url: direct, prepare: true });
  });

  it("turns them off behind Supabase's transaction pooler (port 6543)", () => {
    const pooler =
      "postgres://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
    expect(connectionFor(pooler)).toEqual({ url: pooler, prepare: false });
  });

  it("turns them off for pgbouncer=true and strips the parameter Postgres would refuse", () => {
    const { url, prepare } = connectionFor(
      "postgres://postgres@127.0.0.1:6432/postgres?pgbouncer=true&sslmode=disable",
    );
    expect(prepare).toBe(false);
    expect(new URL(url).searchParams.has("pgbouncer")).toBe(false);
    expect(new URL(url).searchParams.get("sslmode")).toBe("disable");
  });

  it("strips pgbouncer=false too but keeps prepared statements", () => {
    const { url, prepare } = connectionFor("postgres://u@h:5432/d?pgbouncer=false");
    expect(prepare).toBe(true);
    expect(url).toBe("postgres://u@h:5432/d");
  });
});
