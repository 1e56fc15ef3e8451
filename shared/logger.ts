// One structured JSON line per event. Callers pass ids and figures only; `redact` strips anything
// that looks like a credential from free text before it reaches a log line, an error body or an audit row.
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
  const emit =
    (lvl: Exclude<LogLevel, "silent">) =>
    (msg: string, fields: LogFields = {}) => {
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

const PATTERNS: RegExp[] = [
  /Bearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /(client_secret|access_token|refresh_token|password|apikey|api_key|secret)(["']?\s*[:=]\s*["']?)[^\s"'&,}]+/gi,
];

/** Removes tokens, JWTs and the given secrets from `text`, and bounds its length. */
export function redact(
  text: string,
  secrets: readonly string[] = [],
  maxLength = 500,
): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  }
  out = out.replace(PATTERNS[0], "Bearer [redacted]").replace(
    PATTERNS[1],
    "[redacted-jwt]",
  )
    .replace(PATTERNS[2], "$1$2[redacted]");
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
