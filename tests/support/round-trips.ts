// Counting database round trips without timing anything: a postgres.js client whose socket shows
// every frontend message, for tests that a request costs the round trips it should.
import { connect, type Socket } from "node:net";
import postgres from "postgres";

/**
 * Counts the frontend messages that end a client's batch and wait for the server's ReadyForQuery:
 * a simple Query ('Q') or an extended-protocol Sync ('S'). One such message is one round trip.
 */
export class RoundTrips {
  count = 0;
  #pending = new Uint8Array(0);
  #startup = true;

  observe(chunk: Uint8Array) {
    const data = new Uint8Array(this.#pending.length + chunk.length);
    data.set(this.#pending);
    data.set(chunk, this.#pending.length);
    let at = 0;
    for (;;) {
      // The startup message has no type byte: a length, then the body.
      const head = this.#startup ? 0 : 1;
      if (data.length - at < head + 4) break;
      const view = new DataView(data.buffer, data.byteOffset + at + head, 4);
      const size = head + view.getInt32(0);
      if (data.length - at < size) break;
      if (!this.#startup && (data[at] === 0x51 || data[at] === 0x53)) this.count++;
      this.#startup = false;
      at += size;
    }
    this.#pending = data.slice(at);
  }
}

/** A client whose every byte to the server is seen by `trips`. */
export function countingClient(url: string, trips: RoundTrips): postgres.Sql {
  const { hostname, port } = new URL(url);
  const socket = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(Number(port), hostname);
      const write = s.write.bind(s) as (...args: unknown[]) => boolean;
      s.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
        trips.observe(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
        return write(chunk, ...rest);
      }) as typeof s.write;
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
  // `socket` is postgres.js' documented custom-socket option (README), missing from its types.
  return postgres(url, { max: 1, onnotice: () => {}, socket } as postgres.Options<never>);
}
