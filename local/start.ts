// `npm start`: the local stack in the foreground until Ctrl-C.
//   npm start -- --reset   wipe the embedded database first
//   npm start -- --seed    load the demo organisations, chapters, coordinators and mentors
import { readEnvironment } from "../shared/config.ts";
import { DEMO, seedDemo } from "./seed-data.ts";
import { startStack } from "./stack.ts";

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => !["--reset", "--seed", "--quiet"].includes(a));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(" ")}; use --reset, --seed or --quiet`);
  process.exit(2);
}
const quiet = args.has("--quiet");

const stack = await startStack({
  env: readEnvironment(),
  reset: args.has("--reset"),
  log: quiet ? undefined : (line) => console.log(line),
});

if (args.has("--seed")) await seedDemo(stack.sql);

const coordinatorJwt = await stack.mintJwt({
  role: "authenticated",
  sub: DEMO.coordinatorUserId,
  email: DEMO.coordinatorEmail,
  expiresInSeconds: 7 * 86400,
});

const database = stack.engine === "pglite"
  ? `${stack.databaseUrl}  (embedded PGlite, data in ${stack.settings.dataDir}/pglite)`
  : `${stack.databaseUrl.replace(/\/\/[^@/]*@/, "//…@")}  (DATABASE_URL)`;

const sandbox = stack.sandbox
  ? `${stack.sandbox.url}  (inspector page: ${stack.sandbox.url}/)`
  : "(not started: DYNAMICS_WEBHOOK_URL is set)";

console.log(`
HLF Dynamics Sync — local stack is up

  Functions gateway   ${stack.functionsUrl}/NAME
  Postgres            ${database}
  Dynamics sandbox    ${sandbox}

  service_role JWT    ${stack.serviceRoleKey}
  secret API key      ${stack.secretKey}   (service callers, in the apikey header)
  anon JWT            ${stack.anonKey}
  coordinator JWT     ${coordinatorJwt}
                      (ES256, verified against ${stack.gatewayUrl}/auth/v1/.well-known/jwks.json)
                      (demo coordinator ${DEMO.coordinatorEmail}; load the demo data with --seed)

  Try it (the demo coordinator asks for a mentor's sync status, as the Flutter app does):
  curl -s "${stack.functionsUrl}/sync-status?mentorId=${DEMO.mentorId}" \\
    -H "Authorization: Bearer ${coordinatorJwt}"

Ctrl-C stops everything.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    await stack.stop();
    process.exit(0);
  });
}
