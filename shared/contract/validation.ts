// Turns zod results into plain `{ path, message }` issues every caller can log or return as JSON,
// and holds the field schemas the v1 contracts share.
import { z } from "zod";

export interface Issue {
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** ISO 8601 UTC with exactly three fractional digits and `Z`: `2026-11-22T10:00:00.000Z`. */
export const IsoDateTime = z.iso.datetime({ precision: 3 });

export const Uuid = z.uuid();

// Inbound is liberal in what it accepts and stores what it sends: any RFC 3339 instant (any number
// of fractional digits, `Z` or any offset; .NET's round-trip format has seven), normalised to
// `IsoDateTime`; any 8-4-4-4-12 hex id (a Dataverse GUID need not carry an RFC 4122 version),
// lowercased.
export const InstantInput = z.iso.datetime({ offset: true })
  .transform((value) => {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  })
  .pipe(IsoDateTime);

export const GuidInput = z.guid().transform((value) => value.toLowerCase());

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    value = value !== null && typeof value === "object" ? Reflect.get(value, key) : undefined;
  }
  return value;
}

// How well a union branch fits the input: fewer fields it wanted but the input lacks, then fewer
// issues, then issues deeper in the structure (the branch got further before failing).
function branchFit(issues: readonly z.core.$ZodIssue[], input: unknown): number[] {
  const missing = issues.filter((i) => valueAt(input, i.path) === undefined).length;
  const depth = Math.max(...issues.map((i) => i.path.length));
  return [missing, issues.length, -depth];
}

function closestBranch(branches: z.core.$ZodIssue[][], input: unknown): z.core.$ZodIssue[] {
  const fits = branches.map((issues) => branchFit(issues, input));
  const better = (a: number[], b: number[]) => {
    const i = a.findIndex((v, k) => v !== b[k]);
    return i >= 0 && a[i] < b[i];
  };
  let best = 0;
  for (let k = 1; k < branches.length; k++) if (better(fits[k], fits[best])) best = k;
  return branches[best];
}

function toIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  prefix: readonly PropertyKey[],
): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    // Name each unknown key at its own path rather than one issue at the parent.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: joinPath([...path, key]),
        message: "unknown field",
      }));
    }
    // A union failure is most useful reported as the branch that came closest to matching.
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const at = valueAt(input, path);
      return toIssues(closestBranch(issue.errors, at), input, path);
    }
    return [{ path: joinPath(path), message: issue.message }];
  });
}

export function parseWith<T>(
  schema: z.ZodType<T>,
  input: unknown,
): ParseResult<T> {
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: toIssues(result.error.issues, input, []) };
}

export function parseJsonWith<T>(
  schema: z.ZodType<T>,
  text: string,
): ParseResult<T> {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      issues: [{
        path: "",
        message: `invalid JSON: ${(error as Error).message}`,
      }],
    };
  }
  return parseWith(schema, input);
}
