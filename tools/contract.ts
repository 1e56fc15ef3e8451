// Builds the published contract (JSON Schemas and the OpenAPI document) from the zod schemas the
// code itself validates with. Pure: returns file contents; the CLI and the drift test use it.
import { z } from "zod";
import {
  ErrorBody,
  InboundAck,
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
} from "../shared/api.ts";
import { InboundEventV1, ListingChangedV1, ListingConfirmedV1 } from "../shared/inbound.ts";
import { WebhookPayloadV1 } from "../shared/payload.ts";

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

const COMPONENTS: Record<string, z.ZodType> = {
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
  ErrorBody,
};

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

function jsonSchema(schema: z.ZodType): JsonObject {
  return z.toJSONSchema(schema, { io: IO }) as JsonObject;
}

function componentSchemas(): JsonObject {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: IO,
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
  TooManyRequests: "Asked again too soon; `Retry-After` says how many seconds to wait.",
  InternalError: "Unexpected failure; safe to retry.",
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
};

function syncOperation(eventType: string): JsonObject {
  return {
    summary: `Send a ${eventType} event for a mentor to HLF Dynamics`,
    description: "Called by an operator with `{ mentorId }` or by a Supabase Database Webhook on " +
      "the outbox. Builds, signs and delivers the payload, retrying with backoff.",
    security: [{ bearerAuth: [] }],
    requestBody: { required: true, content: jsonContent(ref("SyncRequest")) },
    responses: {
      "200": ok("Where the event stands after this call.", ref("SyncResult")),
      ...STANDARD_ERRORS,
      "404": errorRef("NotFound"),
    },
  };
}

function syncStatusResponses(): JsonObject {
  return {
    "200": ok("One mentor's status, or a page of them in list mode.", {
      oneOf: [ref("SyncStatus"), ref("SyncStatusPage")],
    }),
    ...STANDARD_ERRORS,
    "403": errorRef("Forbidden"),
    "404": errorRef("NotFound"),
  };
}

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
        responses: { "200": ok("Stored, or already seen.", ref("InboundAck")), ...STANDARD_ERRORS },
      },
    },
    "/functions/v1/sync-status": {
      get: {
        summary: "Sync status of one mentor (mentorId) or a page of mentors (list=true)",
        security: [{ bearerAuth: [] }],
        parameters: queryParameters(SyncStatusByMentor, SyncStatusListQuery),
        responses: syncStatusResponses(),
      },
      post: {
        summary: "Same as GET, with the query as a JSON body",
        security: [{ bearerAuth: [] }],
        requestBody: { required: true, content: jsonContent(ref("SyncStatusQuery")) },
        responses: syncStatusResponses(),
      },
    },
    "/functions/v1/sync-resend": {
      post: {
        summary:
          "Resend a mentor's current state (coordinator), or recover dead letters (service role)",
        description:
          "`{ mentorId }`: a coordinator of one of the mentor's chapters (or the service " +
          "role) enqueues and dispatches an event with the mentor's current state; once a minute " +
          "per mentor; every request is audited. `{ failedSince }`: service role only, re-queues " +
          "every dead letter failed since then, except one a newer event of its mentor made moot.",
        security: [{ bearerAuth: [] }],
        requestBody: { required: true, content: jsonContent(ref("SyncResendRequest")) },
        responses: {
          "202": ok("The resent event and the state it reached, or what the recovery did.", {
            oneOf: [ref("SyncResult"), ref("SyncRecoverResult")],
          }),
          ...STANDARD_ERRORS,
          "403": errorRef("Forbidden"),
          "404": errorRef("NotFound"),
          "429": errorRef("TooManyRequests"),
        },
      },
    },
    "/functions/v1/sync-retry": {
      post: {
        summary: "Sweep due and stuck events and deliver them",
        security: [{ bearerAuth: [] }],
        requestBody: { required: false, content: jsonContent(ref("SyncRetryRequest")) },
        responses: {
          "200": ok("What the sweep did.", ref("SyncRetryResult")),
          ...STANDARD_ERRORS,
        },
      },
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
        responses: {
          "2XX": { description: "Applied (or already applied). Delivery is complete." },
          "408": { description: "Retried with backoff." },
          "429": { description: "Retried, honouring Retry-After (seconds or HTTP-date)." },
          "4XX": { description: "Any other 4xx is permanent: not retried, shown to coordinators." },
          "5XX": {
            description: "500, 502, 503, 504 are retried with backoff; others are permanent.",
          },
        },
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
      { url: "http://127.0.0.1:54321", description: "Local stack (npm start)" },
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
          flows: {
            clientCredentials: {
              tokenUrl: "https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token",
              scopes: {},
            },
          },
        },
        dynamicsApiKey: {
          type: "apiKey",
          in: "header",
          name: "X-Api-Key",
          description: "Header name is configurable; X-Api-Key is the default.",
        },
      },
    },
  };
}

/** Every generated contract file, keyed by its path relative to the repository root. */
export function buildContractFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, schema] of Object.entries(STANDALONE)) files[path] = render(jsonSchema(schema));
  files["contracts/openapi.json"] = render(openApi());
  return files;
}
