// How the sandbox POSTs its callbacks: node:http on kept-alive sockets, answering only the status.
// The sandbox shares the bench machine's cores with what it measures, and Node's fetch (undici, web
// streams, an AbortSignal per request) cost about 0.85 ms of the bench process's CPU per callback
// in a `node --cpu-prof` profile of a 10,000-removal mass expiry: more than the product's own
// dispatch per delivery. Dynamics' side of the exchange is not what the bench measures.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** No answer within this long (ms) fails the attempt. */
  timeoutMs: number;
  /** Aborts the request (the sandbox is stopping). */
  signal: AbortSignal;
}

/** Resolves with the response's status once its body has been read; rejects on a network error. */
export type Post = (url: string, options: PostOptions) => Promise<number>;

export function createHttpPost(): { post: Post; close(): void } {
  const agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };
  const post: Post = (url, o) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const send = secure ? httpsRequest : httpRequest;
      const req = send(target, {
        method: "POST",
        agent: secure ? agents.https : agents.http,
        headers: { ...o.headers, "content-length": String(Buffer.byteLength(o.body)) },
        signal: o.signal,
        timeout: o.timeoutMs,
      }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(o.body);
    });
  return {
    post,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
