// Runs the Dynamics sandbox standalone: `tsx local/dynamics-sandbox/main.ts [--port 54329] ...`.
// Configuration comes from flags only (the environment belongs to shared/config.ts).
import { parseArgs } from "node:util";
import { LOCAL_PORTS } from "../env.ts";
import { DEFAULTS } from "../../shared/config.ts";
import { DEFAULT_TENANT, DEFAULT_TOKEN_LIFETIME_SECONDS, LISTINGS_PATH } from "./app.ts";
import { startSandbox } from "./server.ts";

const USAGE = `Usage: tsx local/dynamics-sandbox/main.ts [options]
  --port N                 listen port (default ${LOCAL_PORTS.sandbox}; 0 = any free port)
  --host ADDR              listen address (default 127.0.0.1)
  --tenant NAME            Entra tenant in the token path (default ${DEFAULT_TENANT})
  --client-id ID           accepted OAuth2 client id
  --client-secret SECRET   accepted OAuth2 client secret
  --api-key KEY            also accept this key in the api-key header
  --api-key-header NAME    api-key header name (default ${DEFAULTS.DYNAMICS_API_KEY_HEADER})
  --signing-secret SECRET  outbound signing secret to verify (repeatable)
  --token-lifetime SECONDS access token lifetime (default ${DEFAULT_TOKEN_LIFETIME_SECONDS})
  --callback-url URL       POST signed listing.confirmed events here
  --callback-secret SECRET secret for those callbacks
  --quiet                  no request log`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) fail(`--${name} expects a whole number`);
  return Number(value);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      tenant: { type: "string" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
      "api-key": { type: "string" },
      "api-key-header": { type: "string" },
      "signing-secret": { type: "string", multiple: true },
      "token-lifetime": { type: "string" },
      "callback-url": { type: "string" },
      "callback-secret": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const sandbox = await startSandbox({
  port: wholeNumber("port", values.port) ?? LOCAL_PORTS.sandbox,
  host: values.host,
  tenant: values.tenant,
  clientId: values["client-id"],
  clientSecret: values["client-secret"],
  apiKey: values["api-key"],
  apiKeyHeader: values["api-key-header"],
  signingSecrets: values["signing-secret"],
  tokenLifetimeSeconds: wholeNumber("token-lifetime", values["token-lifetime"]),
  callbackUrl: values["callback-url"],
  callbackSecret: values["callback-secret"],
  log: values.quiet ? undefined : (line) => console.log(`[dynamics-sandbox] ${line}`),
});
console.log(`Dynamics sandbox listening on ${sandbox.url}
  inspector page: ${sandbox.url}/
  token endpoint: ${sandbox.tokenUrl}
  webhook:        ${sandbox.webhookUrl}
  listings:       ${sandbox.url}${LISTINGS_PATH}
  control API:    ${sandbox.url}/__control/{faults,throttle,config,reset,listings,events,deliveries,counters}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sandbox.stop().then(() => process.exit(0));
  });
}
