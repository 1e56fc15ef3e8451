import { describe, expect, it } from "vitest";
import {
  beginDelivery,
  emptyDeliveryLog,
  finishDelivery,
  MAX_DELIVERIES,
} from "../../local/dynamics-sandbox/deliveries.ts";

const opts = { nowMs: Date.parse("2026-11-23T10:00:00.000Z"), apiKeyHeader: "X-Api-Key" };

describe("the sandbox's delivery log", () => {
  it("shows headers without credentials: the auth scheme stays, tokens and keys do not", () => {
    const log = emptyDeliveryLog();
    const record = beginDelivery(
      log,
      new Headers({
        authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.secret.sig",
        "x-api-key": "k-123456",
        "webhook-id": "msg_1",
      }),
      opts,
    );
    expect(record.headers).toEqual({
      authorization: "Bearer [redacted]",
      "x-api-key": "[redacted]",
      "webhook-id": "msg_1",
    });
    expect(record).toMatchObject({
      sequence: 1,
      receivedAt: "2026-11-23T10:00:00.000Z",
      signature: { checked: false },
      fault: null,
      answer: null,
    });
  });

  it("keeps only the latest deliveries", () => {
    const log = emptyDeliveryLog();
    for (let i = 0; i < MAX_DELIVERIES + 5; i++) beginDelivery(log, new Headers(), opts);
    expect(log.records).toHaveLength(MAX_DELIVERIES);
    expect(log.records[0].sequence).toBe(6);
    expect(log.records.at(-1)!.sequence).toBe(MAX_DELIVERIES + 5);
  });

  it("records the body and the answer, and survives a body that cannot be read", async () => {
    const log = emptyDeliveryLog();
    const ok = beginDelivery(log, new Headers(), opts);
    const answer = Response.json({ error: { code: "0x1", message: "no" } }, { status: 400 });
    await finishDelivery(ok, () => Promise.resolve('{"a":1}'), answer);
    expect(ok.body).toBe('{"a":1}');
    expect(ok.answer).toEqual({ status: 400, body: '{"error":{"code":"0x1","message":"no"}}' });
    expect(await answer.json()).toMatchObject({ error: { code: "0x1" } });

    const reset = beginDelivery(log, new Headers(), opts);
    await finishDelivery(
      reset,
      () => Promise.reject(new Error("socket closed")),
      new Response(null, { status: 502 }),
    );
    expect(reset.body).toMatch(/not readable/);
    expect(reset.answer).toEqual({ status: 502, body: "" });
  });

  it("leaves a bodyless answer untouched (reading its body would rebuild the Response)", async () => {
    const log = emptyDeliveryLog();
    const record = beginDelivery(log, new Headers(), opts);
    const answer = new Response(null, { status: 204 });
    let bodyRead = false;
    Object.defineProperty(answer, "body", {
      get: () => {
        bodyRead = true;
        return null;
      },
    });
    await finishDelivery(record, () => Promise.resolve("{}"), answer);
    expect(record.answer).toEqual({ status: 204, body: "" });
    expect(bodyRead).toBe(false);
  });
});
