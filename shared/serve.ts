// Start-up of one deployed function: its configuration is validated against what it needs, once.
// A misconfigured function still serves, answering every request 503 `misconfigured` with the name
// of the variable (never its value): it logged the problem once, opens no database connection, sends
// nothing and writes nothing, and an operator calling it sees what to fix.
import { ConfigError, type Env, loadConfig, type Need, readEnvironment } from "./config.ts";
import { createLogger } from "./logger.ts";
import { createRuntime, type Runtime } from "./runtime.ts";

export type FetchHandler = (req: Request) => Response | Promise<Response>;

export interface FunctionDefinition {
  name: string;
  needs: readonly Need[];
  createApp(rt: Runtime): { fetch: FetchHandler };
}

export function misconfiguredResponse(err: ConfigError): Response {
  return Response.json(
    { error: { code: err.kind, message: err.message, variable: err.variable } },
    { status: 503, headers: { "access-control-allow-origin": "*" } },
  );
}

/** The function's request handler for this environment. `write` receives its log lines. */
export function bootFunction(
  fn: FunctionDefinition,
  env: Env = readEnvironment(),
  write?: (line: string) => void,
): FetchHandler {
  let config;
  try {
    config = loadConfig(env, fn.needs);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger("error", write).error("function misconfigured", {
      function: fn.name,
      variable: err.variable,
      reason: err.message,
    });
    return () => misconfiguredResponse(err);
  }
  const rt = createRuntime(config, createLogger(config.logLevel, write));
  for (const warning of config.warnings) {
    rt.log.warn("configuration warning", { function: fn.name, warning });
  }
  return fn.createApp(rt).fetch;
}
