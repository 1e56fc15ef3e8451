import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { buildContractFiles, EXAMPLES, README_PATH } from "../../tools/contract.ts";
import { DART_MODEL_PATH } from "../../tools/contract-dart.ts";
import { classifyStatus } from "../../shared/dynamics/classify.ts";
import {
  mentorIdFromSyncRequest,
  SyncRequest,
  SyncStatusQuery,
} from "../../shared/contract/api.ts";
import { fromJson } from "../../shared/contract/payload.ts";
import { parseWith } from "../../shared/contract/validation.ts";
import { ConfigError } from "../../shared/config.ts";
import { misconfiguredResponse } from "../../shared/serve.ts";
import { createFunctionApp } from "../../shared/http/function-app.ts";
import { rawBody } from "../../shared/http/request-body.ts";
import { createLogger } from "../../shared/logger.ts";
import golden from "../fixtures/golden-vectors.json" with { type: "json" };
import {
  FIXED_EVENT_ID,
  FIXED_MENTOR_ID,
  PAYLOAD_FIELDS,
  SIGNED_OUTBOUND_HEADERS,
} from "../support/payload-factory.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(join(ROOT, README_PATH), "utf8");
const files = await buildContractFiles(readme);
const openapi = JSON.parse(files["contracts/openapi.json"]);
const jsonFiles = Object.keys(files).filter((path) => path.endsWith(".json"));
const components = openapi.components.schemas;

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "$ref" && typeof inner === "string" ? [inner] : refsIn(inner)
  );
}

describe("published contract files", () => {
  it.each(Object.keys(files))("%s is up to date", (path) => {
    const committed = readFileSync(join(ROOT, path), "utf8");
    expect(committed, `${path} is stale: run \`npm run contract\``).toBe(files[path]);
  });

  it("contains no generated file the code no longer produces", () => {
    const onDisk = ["contracts", "contracts/examples", "contracts/dart"].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((name) => name.endsWith(".json") || name.endsWith(".dart"))
        .map((name) => `${dir}/${name}`)
    );
    expect(onDisk.sort(), "run `npm run contract` and delete stale files").toEqual(
      Object.keys(files).filter((path) => path !== README_PATH).sort(),
    );
  });

  it("is deterministic, ends with a newline; schemas have sorted keys", async () => {
    expect(await buildContractFiles(readme)).toEqual(files);
    for (const path of jsonFiles) {
      expect(files[path].endsWith("}\n")).toBe(true);
      if (path.startsWith("contracts/examples/")) continue;
      const keys = Object.keys(JSON.parse(files[path]));
      expect(keys).toEqual([...keys].sort());
    }
  });

  it("publishes the payload schema with its required fields and the action pairing", () => {
    const schema = JSON.parse(files["contracts/webhook-payload.v1.schema.json"]);
    expect(schema.required).toEqual(PAYLOAD_FIELDS);
    expect(schema.additionalProperties).toBeUndefined();
    expect(schema.properties.renewalHistory.maxItems).toBe(5);
    expect(schema.allOf).toContainEqual({
      if: {
        properties: { eventType: { const: "certification.renewed" } },
        required: ["eventType"],
      },
      then: { properties: { listingAction: { const: "reinstate" } } },
    });
  });
});

describe("openapi.json", () => {
  it("passes a strict OpenAPI 3.1 validator (formats included)", async () => {
    const result = await new Validator().validate(structuredClone(openapi));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("is OpenAPI 3.1 and every $ref resolves", () => {
    expect(openapi.openapi).toBe("3.1.0");
    for (const ref of refsIn(openapi)) {
      const [, section, name] = ref.match(/^#\/components\/(\w+)\/(\w+)$/) ?? [];
      expect(openapi.components[section]?.[name], ref).toBeDefined();
    }
  });

  it("describes every HTTP function with its security and error responses", () => {
    const fn = (name: string) => openapi.paths[`/functions/v1/${name}`];
    expect(Object.keys(fn("sync-status")).sort()).toEqual(["get", "post"]);
    const operations = [
      fn("certification-expired").post,
      fn("certification-renewed").post,
      fn("sync-status").get,
      fn("sync-status").post,
      fn("sync-retry").post,
    ];
    for (const operation of operations) {
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      expect(operation.responses["401"]).toEqual({ $ref: "#/components/responses/Unauthorized" });
    }
    const inbound = fn("dynamics-webhook").post;
    expect(inbound.security).toEqual([{ standardWebhooks: [] }, { hlfSignature: [] }]);
    expect(inbound.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/InboundEventV1",
    });
    expect(openapi.components.securitySchemes.bearerAuth).toMatchObject({ bearerFormat: "JWT" });
  });

  it("describes the outbound webhook with all its headers", () => {
    const hook = openapi.webhooks.certificationStatusChanged.post;
    expect(hook.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
      ["Authorization", ...SIGNED_OUTBOUND_HEADERS].sort(),
    );
    expect(hook.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/WebhookPayloadV1",
    });
  });
});

/** Rows of the README's generated retry table: the statuses each names, and its outcome. */
function retryTable(): { label: string; statuses: number[]; outcome: string }[] {
  return [...readme.matchAll(/^\| ([^|]+) \| `(\w+)` \| [^|]+ \|$/gm)].map((
    [, label, outcome],
  ) => ({
    label: label.trim(),
    statuses: [...label.matchAll(/\b([1-5]\d\d)\b/g)].map((m) => Number(m[1])),
    outcome,
  }));
}

describe("retry and auth semantics in the docs agree with classify.ts", () => {
  const rows = retryTable();
  const explicit = new Map(
    rows.flatMap((r) => /^\d{3}$/.test(r.label) ? [[r.statuses[0], r]] : []),
  );
  const group = (status: number) => {
    const pattern = status < 300 && status >= 200
      ? /^2xx/
      : status >= 400 && status < 500
      ? /^other 4xx/
      : status >= 500
      ? /^other 5xx/
      : /^1xx, 3xx/;
    return rows.find((r) => pattern.test(r.label));
  };

  it("the README's table covers every status from 100 to 599 with classify.ts's outcome", () => {
    expect(rows.length).toBeGreaterThan(5);
    for (let status = 100; status <= 599; status++) {
      const row = explicit.get(status) ?? group(status);
      expect(row?.outcome, `status ${status}`).toBe(classifyStatus(status));
    }
    // Every status a row names as an example is classified as the row says.
    for (const row of rows) {
      for (const status of row.statuses) {
        expect(classifyStatus(status), row.label).toBe(row.outcome);
      }
    }
  });

  it("401 is rescheduled (not permanent) in both auth modes, and the docs say so", () => {
    expect(classifyStatus(401)).toBe("auth");
    expect(explicit.get(401)?.outcome).toBe("auth");
    expect(readme).toMatch(
      /Both modes \(OAuth2 and API key\): the round ends and the event is rescheduled/,
    );
  });

  it("openapi.json's webhook responses match classify.ts", () => {
    const responses = openapi.webhooks.certificationStatusChanged.post.responses as Record<
      string,
      { description: string }
    >;
    for (const [key, { description }] of Object.entries(responses)) {
      const statuses = /^\d{3}$/.test(key)
        ? [Number(key)]
        : Array.from({ length: 100 }, (_, i) => Number(key[0]) * 100 + i)
          .filter((s) => responses[String(s)] === undefined);
      for (const status of statuses) {
        expect(description.startsWith(`\`${classifyStatus(status)}\``), `${key}: ${status}`).toBe(
          true,
        );
      }
    }
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(["2XX", "401", "425", "4XX"]));
  });
});

describe("contracts/examples", () => {
  // Ajv 2020-12 with formats, reading the published openapi.json as a Dynamics integrator would.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...openapi, $id: "https://hlf.example/openapi.json" });

  it.each(Object.entries(EXAMPLES))("%s validates against %s", (path, [component]) => {
    const example = JSON.parse(files[path]);
    const check = ajv.compile({
      $ref: `https://hlf.example/openapi.json#/components/schemas/${component}`,
    });
    expect(check(example), JSON.stringify(check.errors)).toBe(true);
  });

  // What a function really answers on failure must match the documented envelope: the 503 of a
  // misconfigured deployment (it names the variable) as much as an HttpError's.
  it.each([
    [
      "503 misconfigured",
      () => misconfiguredResponse(new ConfigError("DYNAMICS_SIGNING_SECRET", "is required")),
    ],
    ["413 payload_too_large", () => {
      const app = createFunctionApp("contract-test", createLogger("silent"), 10_000);
      app.post("/", rawBody(8), (c) => c.text("read"));
      return app.request("/contract-test", { method: "POST", body: "x".repeat(64) });
    }],
    ["503 deadline_exceeded", () => {
      const app = createFunctionApp("contract-test", createLogger("silent"), 1);
      app.get("/", () => new Promise<Response>(() => {}));
      return app.request("/contract-test");
    }],
  ])("the %s error body validates against ErrorBody", async (_name, respond) => {
    const check = ajv.compile({
      $ref: "https://hlf.example/openapi.json#/components/schemas/ErrorBody",
    });
    const response = await respond();
    expect(response.status).toBe(Number(_name.slice(0, 3)));
    const body = await response.json();
    expect(check(body), JSON.stringify(check.errors)).toBe(true);
  });

  it("documents 503 on every operation, 413 on those with a body, 415 on the inbound webhook", () => {
    for (
      const [path, item] of Object.entries(
        openapi.paths as Record<
          string,
          Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>
        >,
      )
    ) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.responses["503"], `${method} ${path}`).toBeDefined();
        expect(op.responses["413"] !== undefined, `${method} ${path}`).toBe(
          op.requestBody !== undefined,
        );
      }
    }
    expect(openapi.paths["/functions/v1/dynamics-webhook"].post.responses["415"]).toBeDefined();
  });

  it("include a null renewedBy and an unknown extra field", () => {
    const renewed = JSON.parse(
      files["contracts/examples/webhook-payload.renewed-with-unknown-field.json"],
    );
    expect(renewed.renewalHistory.some((e: { renewedBy: unknown }) => e.renewedBy === null)).toBe(
      true,
    );
    expect(Object.keys(renewed)).toContain("portalRegion");
  });
});

describe("contracts/dart", () => {
  const dart = files[DART_MODEL_PATH];

  /** Fields of a generated class: JSON name -> Dart type. */
  function dartFields(className: string): Record<string, string> {
    const body = dart.match(new RegExp(`class ${className} \\{([\\s\\S]*?)\\n\\}`))?.[1] ?? "";
    return Object.fromEntries(
      [...body.matchAll(/@JsonKey\(name: "(\w+)"\)\s+final ([\w<>?]+) \w+;/g)].map((
        m,
      ) => [m[1], m[2]]),
    );
  }

  type Prop = {
    type?: string | string[];
    format?: string;
    anyOf?: Prop[];
    items?: Prop;
    enum?: unknown[];
    title?: string;
    const?: unknown;
    $ref?: string;
  };

  function dartType(prop: Prop): string {
    if (prop.anyOf) return `${dartType(prop.anyOf.find((p) => p.type !== "null")!)}?`;
    if (Array.isArray(prop.type)) {
      const [single] = prop.type.filter((t) => t !== "null");
      return `${dartType({ ...prop, type: single })}${prop.type.includes("null") ? "?" : ""}`;
    }
    if (prop.$ref) return prop.$ref.split("/").at(-1)!.replace(/V1$/, "");
    if (prop.enum || (prop.const !== undefined && typeof prop.const === "string")) return "enum";
    if (prop.type === "array") return `List<${dartType(prop.items!)}>`;
    if (prop.type === "integer") return "int";
    if (prop.type === "number") return "double";
    if (prop.format === "date-time") return "DateTime";
    if (prop.type === "string") return "String";
    if (prop.title) return prop.title;
    return "object";
  }

  it.each([
    ["WebhookPayload", "WebhookPayloadV1"],
    ["RenewalEntry", null],
    ["ListingConfirmed", "ListingConfirmedV1"],
    ["ListingChanged", "ListingChangedV1"],
    ["SyncStatus", "SyncStatus"],
    ["SyncStatusPage", "SyncStatusPage"],
  ])("%s has the schema's field names, types and nullability", (className, component) => {
    const schema = component === null
      ? components.WebhookPayloadV1.properties.renewalHistory.items
      : components[component];
    const fields = dartFields(className);
    expect(Object.keys(fields).sort()).toEqual(Object.keys(schema.properties).sort());
    const required = new Set(schema.required as string[]);
    for (const [name, prop] of Object.entries(schema.properties as Record<string, Prop>)) {
      let expected = dartType(prop);
      if (!required.has(name) && !expected.endsWith("?")) expected += "?";
      const actual = fields[name];
      if (expected.startsWith("enum")) {
        expect(actual, name).toMatch(expected.endsWith("?") ? /^[A-Z]\w*\?$/ : /^[A-Z]\w*$/);
      } else if (expected === "List<object>") {
        expect(actual, name).toMatch(/^List<[A-Z]\w*>$/);
      } else {
        expect(actual, name).toBe(expected);
      }
    }
  });

  it("is json_serializable, with fromJson/toJson on the payload class", () => {
    expect(dart).toContain("import 'package:json_annotation/json_annotation.dart';");
    expect(dart).toContain("part 'hlf_contract.g.dart';");
    expect(dart).toContain("@JsonSerializable()\nclass WebhookPayload {");
    expect(dart).toContain("factory WebhookPayload.fromJson(Map<String, dynamic> json)");
    expect(dart).toContain("Map<String, dynamic> toJson() => _$WebhookPayloadToJson(this);");
    expect(dartFields("WebhookPayload").schemaVersion).toBe("int");
    expect(dartFields("RenewalEntry").renewedBy).toBe("String?");
  });
});

describe("contracts/README.md worked example", () => {
  const vector = golden.vectors.find((v) => v.name === golden.readmeExample)!;

  it("shows the golden vector's secret, key, body, id and timestamp", () => {
    expect(readme).toContain("```text\n" + vector.secret + "\n```");
    const key = Buffer.from(vector.secret.slice("whsec_".length), "base64").toString("hex");
    expect(readme).toContain("`" + key + "`");
    expect(readme).toContain("```json\n" + vector.body + "\n```");
    expect(readme).toContain(`Event id \`${vector.id}\`, signed at ${vector.timestampSeconds} `);
    expect(fromJson(vector.body).ok).toBe(true);
  });

  it("shows exactly the headers the signer produces", () => {
    const block = readme.match(/```http\n([\s\S]*?)\n```/)?.[1] ?? "";
    const shown = Object.fromEntries(block.split("\n").map((line) => line.split(": ")));
    expect(shown).toEqual(vector.headers);
  });
});

describe("API schemas", () => {
  const dbWebhook = (record: unknown, old_record: unknown = null) => ({
    type: "INSERT",
    table: "sync_events",
    schema: "public",
    record,
    old_record,
  });

  it("takes the mentor from an operator call or a database webhook row", () => {
    const parse = (input: unknown) => {
      const result = parseWith(SyncRequest, input);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      return result.value;
    };
    const operator = parse({ mentorId: FIXED_MENTOR_ID });
    expect(mentorIdFromSyncRequest(operator)).toBe(FIXED_MENTOR_ID);
    const hook = parse(dbWebhook({ mentor_id: FIXED_MENTOR_ID, event_id: FIXED_EVENT_ID, x: 1 }));
    expect(mentorIdFromSyncRequest(hook)).toBe(FIXED_MENTOR_ID);
    const deleted = parse({ ...dbWebhook(null, { mentor_id: FIXED_MENTOR_ID }), type: "DELETE" });
    expect(mentorIdFromSyncRequest(deleted)).toBe(FIXED_MENTOR_ID);
  });

  it.each([
    ["a webhook without any row", dbWebhook(null), ["record"]],
    ["a row without mentor_id", dbWebhook({ event_id: FIXED_EVENT_ID }), ["record.mentor_id"]],
    [
      "an unknown webhook type",
      { ...dbWebhook({ mentor_id: FIXED_MENTOR_ID }), type: "TRUNCATE" },
      [
        "type",
      ],
    ],
  ])("rejects %s, naming the path", (_name, input, paths) => {
    const result = parseWith(SyncRequest, input);
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(paths);
  });

  it("names the path inside the union branch the input was meant for, even when nested", () => {
    const Wrapper = z.object({ requests: z.array(SyncRequest) });
    const result = parseWith(Wrapper, {
      requests: [{ mentorId: FIXED_MENTOR_ID }, dbWebhook({ event_id: FIXED_EVENT_ID })],
    });
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual([
      "requests.1.record.mentor_id",
    ]);
  });

  it("normalises a sync-status list query from query-string or JSON form", () => {
    expect(parseWith(SyncStatusQuery, { list: "true", limit: "20", state: "failed" })).toEqual({
      ok: true,
      value: {
        list: true,
        state: "failed",
        chapterId: undefined,
        limit: 20,
        cursor: undefined,
      },
    });
    const defaults = parseWith(SyncStatusQuery, { list: true });
    expect(defaults.ok && defaults.value).toMatchObject({ list: true, limit: 50 });
    expect(parseWith(SyncStatusQuery, { mentorId: FIXED_MENTOR_ID })).toEqual({
      ok: true,
      value: { mentorId: FIXED_MENTOR_ID },
    });
  });

  it.each([
    [{ list: true, limit: 201 }, "limit"],
    [{ list: "true", limit: "0" }, "limit"],
    [{ list: "true", state: "delivered" }, "state"],
  ])("rejects list query %j at %s", (input, path) => {
    const result = parseWith(SyncStatusQuery, input);
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual([path]);
  });
});
