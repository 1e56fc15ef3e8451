// Command-line options of `npm run bench`: scenario names (or their numbers) to run, --smoke for
// tiny sizes, --write / --no-write to force recording in BENCHMARKS.md.

export interface BenchOptions {
  /** Empty: every scenario. */
  scenarios: string[];
  smoke: boolean;
  /** Full runs record by default, smoke runs do not. */
  write: boolean;
}

export function parseOptions(argv: readonly string[], known: readonly string[]): BenchOptions {
  let smoke = false;
  let write: boolean | undefined;
  const scenarios: string[] = [];
  for (const arg of argv) {
    if (arg === "--smoke") smoke = true;
    else if (arg === "--write") write = true;
    else if (arg === "--no-write") write = false;
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else {
      const match = known.find((name) =>
        name === arg || name.split(" ")[0] === arg || name.includes(arg)
      );
      if (!match) throw new Error(`unknown scenario "${arg}"; known: ${known.join(", ")}`);
      if (!scenarios.includes(match)) scenarios.push(match);
    }
  }
  return { scenarios, smoke, write: write ?? !smoke };
}
