// The database side of a request made with a user's JWT, as PostgREST sets it up: the role and the
// verified claims in `request.jwt.claims`, transaction-local, so every policy sees `auth.uid()` and
// `auth.role()`.
import type { Sql } from "../db.ts";
import type { Caller } from "./jwt.ts";

/** What a query's template may interpolate when it is sent as text (see `literal`), or a `part`. */
export type Literal = string | number | boolean | null | undefined | Part;

/** A piece of a statement written as a tagged template, its values rendered as the rest are. */
export interface Part {
  readonly strings: readonly string[];
  readonly values: readonly Literal[];
}

export const part = (strings: TemplateStringsArray, ...values: Literal[]): Part => ({
  strings,
  values,
});

/** One statement as a tagged template, answered with its rows. */
export type CallerSql = <T extends readonly object[]>(
  strings: TemplateStringsArray,
  ...values: Literal[]
) => Promise<T>;

/** The statement's text with every value rendered by `literal`. */
export const render = ({ strings, values }: Part): string =>
  strings.reduce((text, piece, i) => `${text}${literal(values[i - 1])}${piece}`);

// Strings made only of these characters (ids, enum values, ISO instants) cannot end a quoted
// literal or start a comment, with or without standard_conforming_strings.
const PLAIN = /^[0-9A-Za-z_.:+-]*$/;
const encoder = new TextEncoder();

/**
 * A value as SQL text that cannot change the statement around it: numbers are integers in
 * parentheses (`x-${n}` never becomes a `--` comment), plain strings are quoted, and any other
 * string travels as base64, whose alphabet needs no escaping, decoded by the server.
 */
export function literal(value: Literal): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return render(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
    return `(${value})`;
  }
  if (PLAIN.test(value)) return `'${value}'`;
  const base64 = btoa(String.fromCharCode(...encoder.encode(value)));
  return `convert_from(decode('${base64}', 'base64'), 'UTF8')`;
}

// set_config('role', …, true) is SET LOCAL ROLE. JIT is off because compiling cost more than the
// queries it would speed up (measured: 331 of 375 ms of a list page on Postgres 15).
// `request.jwt.claim.sub` is the verified user id (empty for other callers): auth.uid() reads it
// before it parses `request.jwt.claims` as jsonb, and the policies' helpers call auth.uid() for
// every row they check (about 11 us a parse on the 2-core bench machine, 2-4 per row of a status
// page). Set transaction-locally, it also masks a session-level value another client of a shared
// session may have left, which auth.uid() would otherwise prefer to the claims.
export function callerContext(caller: Caller): string {
  return `select set_config('request.jwt.claims', ${literal(JSON.stringify(caller.claims))}, true),
    set_config('request.jwt.claim.sub', ${literal(caller.userId ?? "")}, true),
    set_config('jit', 'off', true), set_config('role', ${literal(caller.role)}, true)`;
}

/**
 * A query function that runs each statement as `caller`: it sends the caller's context and the
 * statement as ONE simple-protocol message. Postgres runs a message's statements as one implicit
 * transaction, so the transaction-local role and claims hold for the statement and end with it,
 * even behind a transaction-mode pooler; a failure anywhere rolls it all back, and a statement that
 * writes commits with the message. One statement cannot do it alone: the role that row-level
 * security applies is fixed when a statement starts, so a `set_config` inside it comes too late
 * (checked on Postgres 15: a CTE setting the role reads every row). The values are rendered by
 * `literal`, as the simple protocol takes no parameters.
 *
 * Product code runs nothing as a caller in `sql.begin`: when the backend of a reserved connection
 * (a transaction's) dies, postgres.js 3.4.9 can throw from a timer, outside every promise, which
 * ends the process (porsager/postgres#1208, fix PR #1209 not released;
 * tests/unit/no-reserved-connections.test.ts keeps it out).
 */
export function callerSql(sql: Sql, caller: Caller): CallerSql {
  return async <T extends readonly object[]>(
    strings: TemplateStringsArray,
    ...values: Literal[]
  ) => {
    const statement = render({ strings, values });
    const [, rows] = await sql.unsafe(`${callerContext(caller)};\n${statement}`).simple();
    return rows as unknown as T;
  };
}
