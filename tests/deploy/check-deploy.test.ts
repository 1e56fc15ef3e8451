// `npm run check:deploy`: the deployed shape, proven without a network. The real Supabase CLI
// deploys every function to a loopback stand-in of the Management API, which records exactly what is
// uploaded; each function then runs from exactly those files (see deployed-function.ts) against a
// throwaway database that `supabase db push` migrated and the Dynamics sandbox, with the
// environment hosted Supabase gives a function plus the secrets an operator sets.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxControl } from "../../local/dynamics-sandbox/control-client.ts";
import { type RunningSandbox, startSandbox } from "../../local/dynamics-sandbox/server.ts";
import { createDatabase, databaseUrl, dropDatabase } from "../../local/db/databases.ts";
import { applyStandIn, prepareDatabase } from "../../local/db/prepare.ts";
import { withClient } from "../../local/db/with-client.ts";
import { parseFunctionManifest } from "../../local/function-manifest.ts";
import { signatureHeaders } from "../../shared/contract/signer.ts";
import {
  createChapter,
  createCoordinator,
  createListedMentor,
  createOrganisation,
} from "../support/factories.ts";
import {
  type DeployedFunction,
  startDeployedFunction,
  SUPABASE_FUNCTION_MEMORY_MIB,
} from "./deployed-function.ts";
import { type ProjectStandIn, startProjectStandIn } from "./project-stand-in.ts";
import { type ManagementApiStandIn, startManagementApiStandIn } from "./management-api-stand-in.ts";
import { dbPush, deployFunctions, REPO_ROOT } from "./supabase-cli.ts";
import { sweptMemory } from "../../bench/deployed.ts";

const run = promisify(execFile);
// A project ref is exactly 20 lowercase letters; anything else the CLI takes for a branch name.
const PROJECT_REF = "hlfdynamicssyncstand";
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const quiet = () => {};

let work: string;
let api: ManagementApiStandIn;
let deployOutput: { code: number; output: string };
const databases: string[] = [];

/** A database of the test server, for the CLI, pg_dump and the functions: no TLS on loopback. */
function urlFor(name: string): string {
  const u = new URL(databaseUrl(ADMIN_URL, name));
  u.searchParams.set("sslmode", "disable");
  return u.toString();
}

async function freshDatabase(): Promise<string> {
  const name = `hlf_deploy_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await createDatabase(ADMIN_URL, name);
  databases.push(name);
  return name;
}

const withSql = <T>(name: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> =>
  withClient(urlFor(name), fn);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "check-deploy-"));
  api = await startManagementApiStandIn({ outDir: join(work, "uploads"), projectRef: PROJECT_REF });
  deployOutput = await deployFunctions({
    apiUrl: api.url,
    projectRef: PROJECT_REF,
    profileDir: work,
  });
});

afterAll(async () => {
  await api?.close();
  for (const name of databases) await dropDatabase(ADMIN_URL, name);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("supabase functions deploy --use-api", () => {
  it("uploads every function in config.toml with its own metadata and only its own files", async () => {
    expect(deployOutput.code, deployOutput.output).toBe(0);
    const specs = parseFunctionManifest(
      await readFile(join(REPO_ROOT, "supabase", "config.toml"), "utf8"),
    );
    expect([...api.uploads.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    for (const spec of specs) {
      const upload = api.uploads.get(spec.name)!;
      expect(upload.metadata).toMatchObject({
        entrypoint_path: `functions/${spec.name}/index.ts`,
        import_map_path: "functions/deno.json",
        verify_jwt: spec.verifyJwt,
      });
      expect(upload.files).toContain(upload.metadata.entrypoint_path);
      expect(upload.files).toContain("functions/deno.json");
      for (const file of upload.files) {
        expect(file, `${spec.name} uploads ${file}`).toMatch(
          new RegExp(
            `^(functions/${spec.name}/|functions/_shared/|shared/)[\\w./-]+\\.ts$|^functions/deno\\.json$`,
          ),
        );
      }
      const denoConfig = JSON.parse(
        await readFile(join(upload.dir, "functions/deno.json"), "utf8"),
      );
      expect(denoConfig.nodeModulesDir).toBe("none");
    }
    expect(api.requests.filter((r) => r.endsWith("/functions/deploy"))).toHaveLength(specs.length);
  });
});

describe("supabase db push", () => {
  it("applies migrations/ with the schema and history the project's own runner produces", async () => {
    const [byRunner, byCli] = [await freshDatabase(), await freshDatabase()];
    await withSql(byRunner, (sql) => prepareDatabase(sql));
    await withSql(byCli, (sql) => applyStandIn(sql));
    const pushed = await dbPush(urlFor(byCli));
    expect(pushed.code, pushed.output).toBe(0);

    // pg_dump brackets its output with a random \restrict key: not part of the schema.
    const dump = async (name: string) =>
      (await run("pg_dump", ["--schema-only", "--no-owner", urlFor(name)], {
        maxBuffer: 64 * 1024 * 1024,
      })).stdout.replace(/^\\(un)?restrict .*$/gm, "");
    const [a, b] = [await dump(byRunner), await dump(byCli)];
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);

    const history = (name: string) =>
      withSql(
        name,
        (sql) =>
          sql`select version, name, statements from supabase_migrations.schema_migrations
            order by version`,
      );
    expect(await history(byCli)).toEqual(await history(byRunner));
  });
});

describe("the uploaded functions, run as Supabase runs them", () => {
  const secrets = {
    clientId: `hlf-sync-${randomBytes(4).toString("hex")}`,
    clientSecret: randomBytes(24).toString("base64url"),
    signing: randomBytes(32).toString("base64url"),
    inbound: randomBytes(32).toString("base64url"),
    secretKey: `sb_secret_${randomBytes(24).toString("base64url")}`,
    publishableKey: `sb_publishable_${randomBytes(24).toString("base64url")}`,
  };
  let database: string;
  let sql: postgres.Sql;
  let sandbox: RunningSandbox;
  let project: ProjectStandIn;
  let denoDir: string;
  const running = new Map<string, DeployedFunction>();

  /** What hosted Supabase injects (a project on JWT signing keys and the new API keys)... */
  const injected = (): Record<string, string> => ({
    SUPABASE_URL: project.url,
    SUPABASE_DB_URL: urlFor(database),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: secrets.secretKey }),
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: secrets.publishableKey }),
  });
  /** ...plus the secrets an operator sets with `supabase secrets set`. */
  const operatorSecrets = (): Record<string, string> => ({
    DYNAMICS_WEBHOOK_URL: sandbox.webhookUrl,
    DYNAMICS_TOKEN_URL: sandbox.tokenUrl,
    DYNAMICS_CLIENT_ID: secrets.clientId,
    DYNAMICS_CLIENT_SECRET: secrets.clientSecret,
    DYNAMICS_SCOPE: "https://hlf-sandbox.crm4.dynamics.com/.default",
    DYNAMICS_SIGNING_SECRET: secrets.signing,
    DYNAMICS_INBOUND_SECRETS: secrets.inbound,
    // The sandbox is loopback http; a real deployment's Dynamics URLs are https.
    DYNAMICS_ALLOW_INSECURE_URL: "true",
  });

  const call = (
    name: string,
    init: RequestInit & { token?: string; apikey?: string; query?: string } = {},
  ) =>
    fetch(`${running.get(name)!.url}${init.query ?? ""}`, {
      method: "POST",
      ...init,
      headers: {
        "content-type": "application/json",
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.apikey ? { apikey: init.apikey } : {}),
        ...init.headers,
      },
    });

  const sweep = async () => {
    const res = await call("sync-retry", { body: "{}", apikey: secrets.secretKey });
    expect(res.status, await res.clone().text()).toBe(200);
    return await res.json();
  };

  beforeAll(async () => {
    database = await freshDatabase();
    await withSql(database, (s) => applyStandIn(s));
    const pushed = await dbPush(urlFor(database));
    if (pushed.code !== 0) throw new Error(pushed.output);
    sql = postgres(urlFor(database), { max: 2, onnotice: quiet });
    sandbox = await startSandbox({
      clientId: secrets.clientId,
      clientSecret: secrets.clientSecret,
      signingSecrets: [secrets.signing],
      callbackSecret: secrets.inbound,
    });
    project = await startProjectStandIn();
    denoDir = join(work, "deno-dir");
    await mkdir(denoDir);
    // One after another: the first fills the fresh DENO_DIR from the npm registry.
    for (const upload of api.uploads.values()) {
      const env = { ...injected(), ...operatorSecrets() };
      running.set(upload.slug, await startDeployedFunction(upload, { env, denoDir }));
    }
    await sandboxControl(sandbox.url).config({
      callbackUrl: running.get("dynamics-webhook")!.url,
    });
  });

  afterAll(async () => {
    await Promise.all([...running.values()].map((f) => f.stop()));
    await sandbox?.stop();
    await project?.close();
    await sql?.end();
  });

  it("delivers an expiry committed in SQL to the sandbox as a removal, and takes its signed confirmation", async () => {
    const org = await createOrganisation(sql);
    const chapter = await createChapter(sql, { organisationId: org.id });
    const { mentorId, certificationId } = await createListedMentor(sql, {
      chapterIds: [chapter.id],
    });
    await sweep(); // the initial listing
    await sql`update public.certifications set status = 'expired' where id = ${certificationId}`;
    expect((await sweep()).delivered).toBe(1);
    // The sweep's log line carries the isolate's heap, what Supabase's memory limit counts.
    const memory = sweptMemory(running.get("sync-retry")!.output()).at(-1)!;
    expect(memory.heapUsedMiB).toBeGreaterThan(0);
    expect(memory.heapTotalMiB).toBeGreaterThanOrEqual(memory.heapUsedMiB);
    expect(memory.externalMiB).toBeGreaterThanOrEqual(0);
    const control = sandboxControl(sandbox.url);
    expect(await control.listing(mentorId)).toMatchObject({
      listing: "unlisted",
      lastEventType: "certification.expired",
    });

    await sandbox.idle(); // the sandbox's signed listing.confirmed callbacks have been answered
    expect((await control.counters()).callbacks).toMatchObject({ sent: 2, failed: 0 });
    const confirmations = await sql`
      select event_type from public.cert_notification_log where mentor_id = ${mentorId}`;
    expect(confirmations.map((r) => r.event_type)).toEqual([
      "listing.confirmed",
      "listing.confirmed",
    ]);
  });

  it("answers a coordinator's ES256 token (verified by the project's JWKS) and hides another organisation's mentor", async () => {
    const own = await createOrganisation(sql);
    const other = await createOrganisation(sql);
    const chapter = await createChapter(sql, { organisationId: own.id });
    const otherChapter = await createChapter(sql, { organisationId: other.id });
    const coordinator = await createCoordinator(sql, [chapter.id]);
    const { mentorId } = await createListedMentor(sql, { chapterIds: [chapter.id] });
    const { mentorId: otherMentor } = await createListedMentor(sql, {
      chapterIds: [otherChapter.id],
    });
    await sweep();
    const token = await project.userToken(coordinator.id);
    const status = (id: string, t = token) =>
      call("sync-status", { method: "GET", token: t, query: `?mentorId=${id}` });

    const mine = await status(mentorId);
    expect(mine.status, await mine.clone().text()).toBe(200);
    expect(await mine.json()).toMatchObject({ mentorId, listing: "listed", state: "synced" });
    const theirs = await status(otherMentor);
    expect(theirs.status).toBe(404);
    await theirs.arrayBuffer();
    const wrongAudience = await status(
      mentorId,
      await project.userToken(coordinator.id, {
        audience: "somebody-else",
      }),
    );
    expect(wrongAudience.status).toBe(401);
    await wrongAudience.arrayBuffer();
    expect(project.jwksRequests()).toBeGreaterThan(0);
  });

  it("lets service callers in with the secret API key and refuses the publishable one", async () => {
    const refused = await call("sync-retry", { body: "{}", apikey: secrets.publishableKey });
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
    const none = await call("sync-retry", { body: "{}" });
    expect(none.status).toBe(401);
    await none.arrayBuffer();
    // The README's "verify a deployment" curl, to the function's deployed path.
    const { stdout } = await run("curl", [
      "-sS",
      "-w",
      "\\n%{http_code}",
      "-X",
      "POST",
      running.get("sync-retry")!.url,
      "-H",
      `apikey: ${secrets.secretKey}`,
      "-H",
      "content-type: application/json",
      "-d",
      "{}",
    ]);
    const [body, code] = stdout.split("\n");
    expect(code).toBe("200");
    expect(JSON.parse(body)).toHaveProperty("delivered");
  });
});

describe("a deployment that forgot its secrets", () => {
  let database: string;
  let webhook: DeployedFunction;

  beforeAll(async () => {
    database = await freshDatabase();
    await withSql(database, (s) => prepareDatabase(s));
    // Only what Supabase injects by itself: the database URL. No inbound secret was set.
    webhook = await startDeployedFunction(api.uploads.get("dynamics-webhook")!, {
      env: { SUPABASE_DB_URL: urlFor(database) },
      denoDir: join(work, "deno-dir-misconfigured"),
    });
  });
  afterAll(() => webhook?.stop());

  it("answers every request 503 misconfigured and writes no row for an event signed with the published local secret", async () => {
    const body = JSON.stringify({
      schemaVersion: 1,
      eventId: randomUUID(),
      eventType: "listing.changed",
      occurredAt: new Date().toISOString(),
      mentorId: randomUUID(),
      listing: "listed",
    });
    const forged = await signatureHeaders({
      id: randomUUID(),
      body,
      secret: "local-inbound-signing-secret",
      timestampSeconds: Math.floor(Date.now() / 1000),
    });
    const requests: Array<[string, RequestInit]> = [
      ["", { method: "POST", body, headers: { "content-type": "application/json", ...forged } }],
      ["", { method: "GET" }],
      ["/anything", { method: "PUT", body: "{}" }],
      ["", { method: "OPTIONS" }],
    ];
    for (const [path, init] of requests) {
      const res = await fetch(`${webhook.url}${path}`, init);
      expect(res.status, `${init.method} ${path}`).toBe(503);
      const answer = await res.json();
      expect(answer.error.code).toBe("misconfigured");
      expect(JSON.stringify(answer)).toContain("DYNAMICS_INBOUND_SECRETS");
    }
    const rows = await withSql(
      database,
      (s) => s`select count(*)::int as n from public.cert_notification_log`,
    );
    expect(rows[0].n).toBe(0);
    // Logged once at start, naming the variable, never a value.
    const lines = webhook.output().split("\n").filter((l) =>
      l.includes("DYNAMICS_INBOUND_SECRETS")
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: "error", msg: "function misconfigured" });
  });
});

describe("a function's isolate in the deployed shape", () => {
  it("has the heap Supabase's memory limit gives it, not one sized from this machine's memory", async () => {
    // A probe function beside the real ones: what V8 reports as this isolate's heap limit.
    const dir = join(work, "heap-probe");
    await mkdir(join(dir, "functions", "heap-probe"), { recursive: true });
    await writeFile(
      join(dir, "functions", "heap-probe", "index.ts"),
      'import { getHeapStatistics } from "node:v8";\n' +
        "Deno.serve(() => Response.json(getHeapStatistics()));\n",
    );
    const probe = await startDeployedFunction({
      slug: "heap-probe",
      metadata: { entrypoint_path: "functions/heap-probe/index.ts" },
      files: [],
      dir,
    }, { env: {}, denoDir: join(work, "deno-dir-heap-probe") });
    try {
      const stats = await (await fetch(probe.url)).json();
      const limitMiB = stats.heap_size_limit / 2 ** 20;
      // V8 rounds the generations to whole pages and the young one to a power of two.
      expect(limitMiB).toBeGreaterThan(SUPABASE_FUNCTION_MEMORY_MIB * 0.9);
      expect(limitMiB).toBeLessThanOrEqual(SUPABASE_FUNCTION_MEMORY_MIB);
    } finally {
      await probe.stop();
    }
  });
});
