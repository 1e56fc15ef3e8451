// Production wiring: one set of long-lived dependencies per process (an edge isolate, or the local
// gateway), built from the validated config. Tests build their own with fakes.
import { type Config, getConfig } from "./config.ts";
import { createSql, type Sql } from "./db.ts";
import { createLogger, type Logger } from "./logger.ts";

export interface Runtime {
  config: Config;
  log: Logger;
  /** Opened on first use, so a function that never touches the database never connects. */
  readonly sql: Sql;
  close(): Promise<void>;
}

export function createRuntime(config: Config = getConfig()): Runtime {
  let sql: Sql | undefined;
  return {
    config,
    log: createLogger(config.logLevel),
    get sql() {
      sql ??= createSql(config);
      return sql;
    },
    async close() {
      await sql?.end({ timeout: 5 });
    },
  };
}
