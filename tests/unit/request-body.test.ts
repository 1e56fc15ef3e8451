import { describe, expect, it } from "vitest";
import { decodeUtf8, readBody } from "../../shared/http/request-body.ts";
import { readAtMost } from "../../shared/read-at-most.ts";

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers, duplex: "half" } as RequestInit);

describe("readBody", () => {
  it("returns the exact bytes of a body within the limit, across chunks", async () => {
    const req = post(streamOf([new Uint8Array([1, 2]), new Uint8Array([3])]));
    expect(await readBody(req, 3)).toEqual({ ok: true, bytes: new Uint8Array([1, 2, 3]) });
  });

  it("refuses a body over the limit even when no content-length announces it", async () => {
    const req = post(streamOf([new Uint8Array(3), new Uint8Array(3)]));
    expect(await readBody(req, 5)).toEqual({ ok: false, reason: "too_large" });
  });

  it("refuses at once when content-length announces too much", async () => {
    const req = post("x".repeat(10), { "content-length": "10" });
    expect(await readBody(req, 9)).toEqual({ ok: false, reason: "too_large" });
  });

  it("reads an absent body as empty", async () => {
    expect(await readBody(post(null), 10)).toEqual({ ok: true, bytes: new Uint8Array() });
  });
});

describe("readAtMost", () => {
  it("keeps at most maxBytes, says more arrived, and stops reading there", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array([pulled, pulled]));
      },
    });
    const read = await readAtMost(endless, 3);
    expect(read).toEqual({ bytes: new Uint8Array([1, 1, 2]), over: true, failed: false });
    expect(pulled).toBeLessThan(5);
  });

  it("keeps what arrived before the stream failed and says it failed", async () => {
    let sent = false;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("peer went away"));
        sent = true;
        controller.enqueue(new Uint8Array([7]));
      },
    });
    expect(await readAtMost(broken, 10)).toEqual({
      bytes: new Uint8Array([7]),
      over: false,
      failed: true,
    });
  });
});

describe("decodeUtf8", () => {
  it("decodes valid UTF-8 and refuses invalid sequences", () => {
    expect(decodeUtf8(new TextEncoder().encode("Kari Nordmann æøå"))).toBe("Kari Nordmann æøå");
    expect(decodeUtf8(new Uint8Array([0x7b, 0xff, 0x7d]))).toBeNull();
  });
});
