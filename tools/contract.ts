// Builds the published contract (JSON Schemas and the OpenAPI document) from the zod schemas the
// code itself validates with. Pure: returns file contents; the CLI and the drift test use it.
import { z } from "zod";
import {
  ErrorBody,
  InboundAck,
  ReconcileRequest,
  ReconcileRun,
  SyncHealth,
  SyncRecoverResult,
  SyncRequest,
  SyncResendRequest,
  SyncResult,
  SyncRetryRequest,
  SyncRetryResult,
  SyncStatus,
  SyncStatusByMentor,
  SyncStatusListQuery,
  SyncStatusPage,
  SyncStatusQuery,
} from "../shared/contract/api.ts";
import {
  InboundEventV1,
  ListingChangedV1,
  ListingConfirmedV1,
} from "../shared/contract/inbound.ts";
import { buildPayload, toJson, WebhookPayloadV1 } from "../shared/contract/payload.ts";
import { deliveryMarkdown, webhookResponses } from "./contract-delivery.ts";
import { DART_MODEL_PATH, dartModels } from "./contract-dart.ts";
import { coordinatorView } from "../shared/contract/coordinator-errors.ts";
import { DEFAULTS } from "../shared/config.ts";
import { LOCAL_PORTS } from "../local/env.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// `input` describes what a receiver must accept; with strip-mode objects it also leaves
// additionalProperties open, which is the forward-compatibility rule in contracts/README.md.
const IO = "input";

const STANDALONE: Record<string, z.ZodType> = {
  "contracts/webhook-payload.v1.schema.json": WebhookPayloadV1,
  "contracts/listing-confirmed.v1.schema.json": ListingConfirmedV1,
  "contracts/listing-changed.v1.schema.json": ListingChangedV1,
  "contracts/inbound-event.v1.schema.json": InboundEventV1,
};

const COMPONENTS = {
  WebhookPayloadV1,
  ListingConfirmedV1,
  ListingChangedV1,
  InboundEventV1,
  SyncRequest,
  SyncResult,
  SyncStatus,
  SyncStatusQuery,
  SyncStatusPage,
  SyncRetryRequest,
  SyncRetryResult,
  SyncResendRequest,
  SyncRecoverResult,
  InboundAck,
  ReconcileRequest,
  ReconcileRun,
  SyncHealth,
  ErrorBody,
} satisfies Record<string, z.ZodType>;

/** Same document, keys sorted at every level, so output never depends on insertion order. */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]),
  );
}

function render(document: JsonObject): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}

// An integer literal (schemaVersion: 1) is published as an integer, not a number, so generated
// models (Dart) get an int.
const integerConsts = (ctx: { jsonSchema: Record<string, unknown> }) => {
  const value = ctx.jsonSchema.const;
  if (typeof value === "number" && Number.isInteger(value)) ctx.jsonSchema.type = "integer";
};

function jsonSchema(schema: z.ZodType): JsonObject {
  return z.toJSONSchema(schema, { io: IO, override: integerConsts }) as JsonObject;
}

function componentSchemas(): JsonObject {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: IO,
    override: integerConsts,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonObject> };
  // Inside an OpenAPI 3.1 document the dialect is implied and components are named by their key.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]),
  );
}

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

const jsonContent = (schema: JsonObject): JsonObject => ({
  "application/json": { schema },
});

const ERROR_RESPONSES: Record<string, string> = {
  BadRequest: "The request does not match the schema; `details` lists `{ path, message }` issues.",
  Unauthorized: "Missing or invalid credentials (JWT, or webhook signature).",
  Forbidden: "The caller may not see or act on this mentor.",
  NotFound: "No such mentor or event.",
  PayloadTooLarge:
    "The body is over the function's limit (`payload_too_large`); nothing was read further.",
  UnsupportedMediaType: "The body is not declared `application/json` (`unsupported_media_type`).",
  Conflict: "Another invocation is working on the same run (`reconcile_busy`); try again later.",
  TooManyRequests: "Asked again too soon; `Retry-After` says how many seconds to wait.",
  InternalError: "Unexpected failure; safe to retry.",
  Unavailable: "The function is not configured (`misconfigured`, naming the variable to set), or " +
    "the project's signing keys could not be fetched; nothing was done, retry once fixed. Or no " +
    "answer came within the request's deadline (`deadline_exceeded`, with `Retry-After`); what " +
    "was done is safe to repeat.",
};

const errorRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

function ok(description: string, schema: JsonObject): JsonObject {
  return { description, content: jsonContent(schema) };
}

function header(description: string, schema: JsonObject, required = true): JsonObject {
  return { description, required, schema };
}

const SIGNATURE_HEADERS = {
  "X-HLF-Signature": header(
    "`sha256=` + lowercase hex HMAC-SHA256 of the raw body bytes.",
    { type: "string", pattern: "^sha256=[0-9a-f]{64}$" },
  ),
  "webhook-id": header("Standard Webhooks message id: the event's `eventId`.", { type: "string" }),
  "webhook-timestamp": header("Unix seconds when the message was signed.", {
    type: "string",
    pattern: "^[0-9]+$",
  }),
  "webhook-signature": header(
    "Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` entries; any match passes.",
    { type: "string" },
  ),
};

function headerParameters(headers: Record<string, JsonObject>): Json[] {
  return Object.entries(headers).map(([name, spec]) => ({ name, in: "header", ...spec }));
}

function queryParameters(...schemas: z.ZodType[]): Json[] {
  return schemas.flatMap((schema) =>
    Object.entries(jsonSchema(schema).properties as JsonObject).map(([name, property]) => ({
      name,
      in: "query",
      required: false,
      schema: property,
    }))
  );
}

const STANDARD_ERRORS = {
  "400": errorRef("BadRequest"),
  "401": errorRef("Unauthorized"),
  "500": errorRef("InternalError"),
  "503": errorRef("Unavailable"),
};

/** What every operation with a request body may also answer. */
const BODY_ERRORS = { ...STANDARD_ERRORS, "413": errorRef("PayloadTooLarge") };

interface Operation {
  summary: string;
  description?: string;
  /** The JSON body's component; none for a GET. */
  body?: string;
  bodyRequired?: boolean;
  parameters?: Json[];
  responses: JsonObject;
}

/** An operation of a JWT caller, with the errors every one may answer (413 when it has a body). */
function operation(o: Operation): JsonObject {
  const { body, bodyRequired = true, responses, ...rest } = o;
  return {
    ...rest,
    security: [{ bearerAuth: [] }],
    ...(body && { requestBody: { required: bodyRequired, content: jsonContent(ref(body)) } }),
    responses: { ...(body ? BODY_ERRORS : STANDARD_ERRORS), ...responses },
  };
}

const syncOperation = (eventType: string) =>
  operation({
    summary: `Send a ${eventType} event for a mentor to HLF Dynamics`,
    description: "Called by an operator with `{ mentorId }` or by a Supabase Database Webhook on " +
      "the outbox. Builds, signs and delivers the payload, retrying with backoff.",
    body: "SyncRequest",
    responses: {
      "200": ok("Where the event stands after this call.", ref("SyncResult")),
      "404": errorRef("NotFound"),
    },
  });

const SYNC_STATUS_RESPONSES = {
  "200": ok("One mentor's status, or a page of them in list mode.", {
    oneOf: [ref("SyncStatus"), ref("SyncStatusPage")],
  }),
  "403": errorRef("Forbidden"),
  "404": errorRef("NotFound"),
};

function paths(): JsonObject {
  return {
    "/functions/v1/certification-expired": { post: syncOperation("certification.expired") },
    "/functions/v1/certification-renewed": { post: syncOperation("certification.renewed") },
    "/functions/v1/dynamics-webhook": {
      post: {
        summary: "Receive an event from HLF Dynamics",
        description: "Verified on the raw body (Standard Webhooks headers, or X-HLF-Signature), " +
          "then stored once per eventId; a repeated eventId is acknowledged as a duplicate.",
        security: [{ standardWebhooks: [] }, { hlfSignature: [] }],
        parameters: headerParameters(
          Object.fromEntries(
            Object.entries(SIGNATURE_HEADERS).map(([name, spec]) => [
              name,
              { ...spec, required: false },
            ]),
          ),
        ),
        requestBody: { required: true, content: jsonContent(ref("InboundEventV1")) },
        responses: {
          "200": ok("Stored, or already seen.", ref("InboundAck")),
          ...BODY_ERRORS,
          "415": errorRef("UnsupportedMediaType"),
        },
      },
    },
    "/functions/v1/sync-status": {
      get: operation({
        summary: "Sync status of one mentor (mentorId) or a page of mentors (list=true)",
        parameters: queryParameters(SyncStatusByMentor, SyncStatusListQuery),
        responses: SYNC_STATUS_RESPONSES,
      }),
      post: operation({
        summary: "Same as GET, with the query as a JSON body",
        body: "SyncStatusQuery",
        responses: SYNC_STATUS_RESPONSES,
      }),
    },
    "/functions/v1/sync-resend": {
      post: operation({
        summary:
          "Resend a mentor's current state (coordinator), or recover dead letters (service role)",
        description:
          "`{ mentorId }`: a coordinator of one of the mentor's chapters (or the service " +
          "role) enqueues and dispatches an event with the mentor's current state; once a minute " +
          "per mentor; every request is audited. `{ failedSince }`: service role only, re-queues " +
          "every dead letter failed since then, except one a newer event of its mentor made moot.",
        body: "SyncResendRequest",
        responses: {
          "202": ok("The resent event and the state it reached, or what the recovery did.", {
            oneOf: [ref("SyncResult"), ref("SyncRecoverResult")],
          }),
          "403": errorRef("Forbidden"),
          "404": errorRef("NotFound"),
          "429": errorRef("TooManyRequests"),
        },
      }),
    },
    "/functions/v1/sync-reconcile": {
      post: operation({
        summary: "Compare the portal's listings with the mentors' listing state and correct drift",
        description:
          "Hourly (pg_cron) or on demand, service role only. Reads the listings page by " +
          "page, enqueues a corrective event for every mentor that differs, and answers with the " +
          "run so far; `running` means the next call resumes it at its cursor.",
        body: "ReconcileRequest",
        bodyRequired: false,
        responses: {
          "200": ok("The run, finished or to be resumed.", ref("ReconcileRun")),
          "403": errorRef("Forbidden"),
          "409": errorRef("Conflict"),
          "502": ok("The run failed reading the portal; `error` says why.", ref("ReconcileRun")),
        },
      }),
    },
    "/functions/v1/sync-health": {
      get: operation({
        summary: "Backlog, delivery health, pause, last reconciliation and open alerts",
        description:
          "Service role only. JSON by default; Prometheus text exposition (0.0.4) with " +
          "`Accept: text/plain`.",
        responses: {
          "200": {
            description: "The health report.",
            content: {
              ...jsonContent(ref("SyncHealth")),
              "text/plain": { schema: { type: "string" } },
            },
          },
          "403": errorRef("Forbidden"),
        },
      }),
    },
    "/functions/v1/sync-retry": {
      post: operation({
        summary: "Sweep due and stuck events and deliver them",
        body: "SyncRetryRequest",
        bodyRequired: false,
        responses: { "200": ok("What the sweep did.", ref("SyncRetryResult")) },
      }),
    },
  };
}

function webhooks(): JsonObject {
  return {
    certificationStatusChanged: {
      post: {
        summary: "A mentor's certification expired or was renewed: remove or reinstate the listing",
        description:
          "Delivered at least once; every retry carries the same eventId, so receivers " +
          "deduplicate on Idempotency-Key. Verify a signature before trusting the body " +
          "(see contracts/README.md).",
        security: [{ dynamicsOAuth2: [] }, { dynamicsApiKey: [] }],
        parameters: headerParameters({
          "Content-Type": header("Always application/json.", {
            type: "string",
            const: "application/json",
          }),
          "Idempotency-Key": header("The event's eventId; equal on every retry.", {
            type: "string",
            format: "uuid",
          }),
          ...SIGNATURE_HEADERS,
          Authorization: header(
            "`Bearer <token>` from the OAuth2 client-credentials flow, when that auth mode is " +
              "configured; in API-key mode the configured key header is sent instead.",
            { type: "string" },
            false,
          ),
        }),
        requestBody: { required: true, content: jsonContent(ref("WebhookPayloadV1")) },
        responses: webhookResponses(),
      },
    },
  };
}

function openApi(): JsonObject {
  return {
    openapi: "3.1.0",
    info: {
      title: "HLF Dynamics Sync",
      version: "1.0.0",
      description: "Supabase Edge Functions that keep HLF Dynamics listings in step with peer " +
        "mentors' certification status, and the webhook they send to Dynamics. Generated from " +
        "the zod schemas by `npm run contract`; do not edit by hand.",
    },
    servers: [
      { url: `http://127.0.0.1:${LOCAL_PORTS.gateway}`, description: "Local stack (npm start)" },
      {
        url: "https://{projectRef}.supabase.co",
        description: "Supabase project",
        variables: { projectRef: { default: "your-project-ref" } },
      },
    ],
    paths: paths(),
    webhooks: webhooks(),
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([name, description]) => [
          name,
          ok(description, ref("ErrorBody")),
        ]),
      ),
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        standardWebhooks: { type: "apiKey", in: "header", name: "webhook-signature" },
        hlfSignature: { type: "apiKey", in: "header", name: "X-HLF-Signature" },
        dynamicsOAuth2: {
          type: "oauth2",
          description: "Entra ID client credentials. The token URL is the HLF tenant's: " +
            "https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token (DYNAMICS_TOKEN_URL).",
          flows: {
            clientCredentials: {
              // A URL, not a template (strict validators check uri-reference); the tenant is
              // named in the description.
              tokenUrl: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
              scopes: {},
            },
          },
        },
        dynamicsApiKey: {
          type: "apiKey",
          in: "header",
          name: DEFAULTS.DYNAMICS_API_KEY_HEADER,
          description:
            `Header name is configurable (DYNAMICS_API_KEY_HEADER); ${DEFAULTS.DYNAMICS_API_KEY_HEADER} is the default.`,
        },
      },
    },
  };
}

// The Flutter app's models: the payload, the inbound events, and what sync-status answers.
const DART_SOURCES: Record<string, z.ZodType> = {
  WebhookPayload: WebhookPayloadV1,
  ListingConfirmed: ListingConfirmedV1,
  ListingChanged: ListingChangedV1,
  SyncStatus,
  SyncStatusPage,
};

const EXAMPLE_MENTOR = "0b8e6a52-3c4d-4f1a-8e2b-9d7c6a5b4e31";
const EXAMPLE_COORDINATOR = "c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f";

function examplePayload(eventType: "certification.expired" | "certification.renewed") {
  const renewed = eventType === "certification.renewed";
  return JSON.parse(toJson(buildPayload({
    eventId: renewed
      ? "9a7e3c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a"
      : "6f1c2b9e-4d7a-4c1e-9b3f-2a5d8e7c1f40",
    eventType,
    occurredAt: new Date(renewed ? "2026-11-25T09:15:00.000Z" : "2026-11-22T10:00:00.000Z"),
    mentorId: EXAMPLE_MENTOR,
    certificationStatus: renewed ? "active" : "expired",
    expiryDate: new Date(renewed ? "2027-11-25T09:15:00.000Z" : "2026-11-22T00:00:00.000Z"),
    renewalHistory: [
      ...(renewed
        ? [{
          schema_version: 1,
          issued_at: "2026-11-25T09:15:00.000Z",
          expires_at: "2027-11-25T09:15:00.000Z",
          renewed_by: EXAMPLE_COORDINATOR,
        }]
        : []),
      {
        schema_version: 1,
        issued_at: "2025-11-22T10:00:00.000Z",
        expires_at: "2026-11-22T10:00:00.000Z",
        renewed_by: null,
      },
    ],
  })));
}

const exampleStatus = {
  mentorId: EXAMPLE_MENTOR,
  state: "synced",
  listing: "listed",
  lastEventId: "9a7e3c1d-5b2f-4e8a-9c6d-1f0e2d3c4b5a",
  lastEventType: "certification.renewed",
  lastAttemptAt: "2026-11-25T09:15:00.042Z",
  lastSuccessAt: "2026-11-25T09:15:00.042Z",
  attempts: 1,
  nextAttemptAt: null,
  lastError: null,
  // What sync-status itself says of this state, from the same code.
  ...coordinatorView(
    { state: "synced", technicalCode: null, hasError: false, attempts: 1, nextAttemptAt: null },
    new Date("2026-11-25T09:15:00.050Z"),
  ),
  updatedAt: "2026-11-25T09:15:00.050Z",
};

/** Example documents: path -> [the openapi.json component it is valid under, the document]. */
export const EXAMPLES: Record<string, [keyof typeof COMPONENTS, unknown]> = {
  "contracts/examples/webhook-payload.expired.json": [
    "WebhookPayloadV1",
    examplePayload("certification.expired"),
  ],
  // A null renewedBy, and a field this version does not know: a v1 reader ignores it.
  "contracts/examples/webhook-payload.renewed-with-unknown-field.json": [
    "WebhookPayloadV1",
    { ...examplePayload("certification.renewed"), portalRegion: "west" },
  ],
  "contracts/examples/listing-confirmed.json": ["ListingConfirmedV1", {
    schemaVersion: 1,
    eventId: "3f2b8c4d-1a6e-4b7f-8c9d-0e1f2a3b4c5d",
    eventType: "listing.confirmed",
    occurredAt: "2026-11-22T10:00:01.250Z",
    mentorId: EXAMPLE_MENTOR,
    listing: "unlisted",
    inReplyTo: "6f1c2b9e-4d7a-4c1e-9b3f-2a5d8e7c1f40",
  }],
  // As Dataverse sends it: a GUID without an RFC 4122 version, .NET's seven fractional digits.
  "contracts/examples/listing-changed.json": ["ListingChangedV1", {
    schemaVersion: 1,
    eventId: "7c4a6d2f-2e6b-ec11-8f8f-000d3a4b1c2d",
    eventType: "listing.changed",
    occurredAt: "2026-11-23T10:30:00.1234567+02:00",
    mentorId: EXAMPLE_MENTOR,
    listing: "listed",
    changedBy: "portal-admin@hlf.example",
    reason: "Restored by hand after a paper renewal",
  }],
  "contracts/examples/sync-status.json": ["SyncStatus", exampleStatus],
  "contracts/examples/sync-status-page.json": ["SyncStatusPage", {
    items: [{ ...exampleStatus, mentorName: "Kari Nordmann", chapterIds: [EXAMPLE_COORDINATOR] }],
    nextCursor: null,
  }],
};

// The README's generated block sits between these markers; the rest of the file is prose.
export const README_PATH = "contracts/README.md";
const GENERATED_START =
  "<!-- generated by `npm run contract` from classify.ts and the reschedule policy -->";
const GENERATED_END = "<!-- end of generated block -->";

function withGeneratedBlock(readme: string): string {
  const start = readme.indexOf(GENERATED_START);
  const end = readme.indexOf(GENERATED_END);
  if (start < 0 || end < start) {
    throw new Error(`${README_PATH} lost its generated-block markers`);
  }
  return `${readme.slice(0, start + GENERATED_START.length)}\n${deliveryMarkdown()}\n${
    readme.slice(end)
  }`;
}

/**
 * Every generated contract file, keyed by its path relative to the repository root. `readme` is
 * the current contracts/README.md, whose generated block is rewritten.
 */
export async function buildContractFiles(readme: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const [path, schema] of Object.entries(STANDALONE)) files[path] = render(jsonSchema(schema));
  files["contracts/openapi.json"] = render(openApi());
  files[README_PATH] = withGeneratedBlock(readme);
  for (const [path, [, example]] of Object.entries(EXAMPLES)) {
    files[path] = `${JSON.stringify(example, null, 2)}\n`;
  }
  files[DART_MODEL_PATH] = await dartModels(
    Object.fromEntries(
      Object.entries(DART_SOURCES).map(([name, schema]) => {
        // The source name, not the document title, names the top-level Dart class.
        const { title: _title, ...rest } = jsonSchema(schema);
        return [name, JSON.stringify(rest)];
      }),
    ),
  );
  return files;
}
