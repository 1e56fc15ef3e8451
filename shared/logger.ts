// One structured JSON line per event. Callers pass ids, figures and already-redacted text only
// (see `redact` in errors.ts): no secrets, tokens or PII beyond ids.
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<
  string,
  string | number | boolean | null | undefined
>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.log(line),
  now: () => Date = () => new Date(),
): Logger {
  const emit = (lvl: Exclude<LogLevel, "silent">) => (msg: string, fields: LogFields = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(
      JSON.stringify({ ts: now().toISOString(), level: lvl, msg, ...fields }),
    );
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}
