import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildContractFiles } from "../../tools/contract.ts";
import { mentorIdFromSyncRequest, SyncRequest, SyncStatusQuery } from "../../shared/api.ts";
import { fromJson } from "../../shared/payload.ts";
import { parseWith } from "../../shared/validation.ts";
import golden from "../fixtures/golden-vectors.json" with { type: "json" };
import {
  FIXED_EVENT_ID,
  FIXED_MENTOR_ID,
  PAYLOAD_FIELDS,
  SIGNED_OUTBOUND_HEADERS,
} from "../support/payload-factory.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const files = buildContractFiles();
const openapi = JSON.parse(files["contracts/openapi.json"]);
const readme = readFileSync(join(ROOT, "contracts/README.md"), "utf8");

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
    const onDisk = readdirSync(join(ROOT, "contracts"))
      .filter((name) => name.endsWith(".json"))
      .map((name) => `contracts/${name}`);
    expect(onDisk.sort(), "run `npm run contract` and delete stale files").toEqual(
      Object.keys(files).sort(),
    );
  });

  it("is deterministic, ends with a newline, and has sorted keys", () => {
    expect(buildContractFiles()).toEqual(files);
    for (const content of Object.values(files)) {
      expect(content.endsWith("}\n")).toBe(true);
      const keys = Object.keys(JSON.parse(content));
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
