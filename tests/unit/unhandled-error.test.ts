// A 500 from any function is logged once with the error's name and, when it has an identifier-shaped
// code (a PostgresError's SQLSTATE), that code: never its message, which can quote the data.
import { expect, it } from "vitest";
import { createFunctionApp } from "../../shared/http/function-app.ts";
import { createLogger } from "../../shared/logger.ts";

function failingWith(error: Error) {
  const lines: string[] = [];
  const app = createFunctionApp("fails", createLogger("info", (l) => lines.push(l)), 1000);
  app.get("/", () => {
    throw error;
  });
  return { app, lines };
}

const postgresError = (code: unknown, message: string) =>
  Object.assign(new Error(message), { name: "PostgresError", code });

it("logs a database error's SQLSTATE with the 500, and not its message", async () => {
  const { app, lines } = failingWith(postgresError("40P01", "deadlock detected on row 42"));
  const res = await app.request("/fails");
  expect(res.status).toBe(500);
  expect(await res.json()).toEqual({
    error: { code: "internal_error", message: "internal error" },
  });
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]);
  expect(line).toMatchObject({
    level: "error",
    msg: "unhandled error",
    function: "fails",
    error: "PostgresError",
    code: "40P01",
  });
  expect(lines[0]).not.toContain("row 42");
});

it("leaves out a code that is not an identifier, and an error without one logs its name only", async () => {
  for (
    const error of [postgresError("a b: secret=1", "x"), postgresError(42, "x"), new TypeError("x")]
  ) {
    const { app, lines } = failingWith(error);
    expect((await app.request("/fails")).status).toBe(500);
    const line = JSON.parse(lines[0]);
    expect(line.error).toBe(error.name);
    expect("code" in line).toBe(false);
  }
});
