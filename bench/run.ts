// `npm run bench [-- <scenario>...] [--smoke] [--write|--no-write]`: runs the scenarios on the
// local stack against the database DATABASE_URL names (a fresh database per scenario) or embedded
// PGlite, prints a progress line per scenario and its figures, and records them in BENCHMARKS.md.
import { readFile, writeFile } from "node:fs/promises";
import { loadConfig } from "../shared/config.ts";
import { describeEnvironment } from "./environment.ts";
import { parseOptions } from "./options.ts";
import { replaceResults, type Row } from "./report.ts";
import type { Figure } from "./results.ts";
import type { Scenario } from "./scenario.ts";
import { exposureWindow } from "./scenarios/exposure-window.ts";
import { massExpiry } from "./scenarios/mass-expiry.ts";
import { dataverseRatio, throttledExpiry } from "./scenarios/throttled-expiry.ts";
import { inboundWebhooks } from "./scenarios/inbound-webhooks.ts";
import { statusQueries } from "./scenarios/status-queries.ts";
import { operations } from "./scenarios/operations.ts";
import { deployedSyncRetry } from "./scenarios/deployed-sync-retry.ts";
import { peerQueue } from "./scenarios/peer-queue.ts";

const SCENARIOS: Scenario[] = [
  exposureWindow,
  massExpiry,
  throttledExpiry,
  inboundWebhooks,
  statusQueries,
  operations,
  deployedSyncRetry,
  dataverseRatio,
  peerQueue,
];
const NAMES = SCENARIOS.map((s) => s.name);
const BENCHMARKS = new URL("../BENCHMARKS.md", import.meta.url);
// A hung stack must not hold CI forever: a full run is well under this on the 2-core machine.
const WATCHDOG_MS = 20 * 60_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), NAMES);
  const adminUrl = loadConfig(process.env).database?.url;
  const env = await describeEnvironment(adminUrl, { probe: !options.smoke });
  const chosen = options.scenarios.length
    ? SCENARIOS.filter((s) => options.scenarios.includes(s.name))
    : SCENARIOS;
  const date = new Date().toISOString().slice(0, 10);
  console.log(
    `bench: ${chosen.length} scenario(s) on ${env.database} (${env.runtime})${
      options.smoke ? ", smoke sizes" : ""
    }`,
  );

  const rows: Row[] = [];
  const started = Date.now();
  for (const [i, scenario] of chosen.entries()) {
    const t0 = Date.now();
    const prefix = `[${i + 1}/${chosen.length}] ${scenario.name} (${env.engine})`;
    console.log(`${prefix}: running`);
    const figures: Figure[] = await scenario.run({
      adminUrl,
      smoke: options.smoke,
      progress: (line) => console.log(`${prefix}: ${line}`),
    });
    const missed = figures.filter((f) => f.verdict === "missed").length;
    console.log(
      `${prefix}: done in ${seconds(Date.now() - t0)}${missed ? `, ${missed} missed` : ""}`,
    );
    for (const f of figures) {
      console.log(
        `    ${f.figure.padEnd(28)} ${f.value.padEnd(14)} ${f.target.padEnd(12)} ${f.verdict}`,
      );
      rows.push({ ...f, database: env.database, runtime: env.runtime, date });
    }
  }
  console.log(`bench: finished in ${seconds(Date.now() - started)}`);

  if (options.write) {
    const previous = await readFile(BENCHMARKS, "utf8").catch(() => "# Benchmarks\n");
    await writeFile(BENCHMARKS, replaceResults(previous, rows, NAMES));
    console.log(`bench: results for ${env.engine} recorded in BENCHMARKS.md`);
  }
}

const watchdog = setTimeout(() => {
  console.error(`bench: gave up after ${seconds(WATCHDOG_MS)}`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

main().then(
  () => process.exit(0),
  (err) => {
    console.error("bench failed:", err);
    process.exit(1);
  },
);
