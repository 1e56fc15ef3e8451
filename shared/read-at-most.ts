// Reading a body without ever buffering more than a limit: the functions' request bodies (refused
// past the limit) and Dynamics' error bodies (cut to a snippet) both read through this.

export interface BoundedRead {
  /** What arrived, never more than `maxBytes`. */
  bytes: Uint8Array;
  /** More than `maxBytes` arrived; the rest was cancelled unread. */
  over: boolean;
  /** The stream failed before its end (the peer went away, a deadline cut it off). */
  failed: boolean;
}

/** Reads `stream` to its end or until more than `maxBytes` arrived, whichever comes first. */
export async function readAtMost(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<BoundedRead> {
  if (!stream) return { bytes: new Uint8Array(), over: false, failed: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let failed = false;
  const reader = stream.getReader();
  try {
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    failed = true;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes: bytes.subarray(0, maxBytes), over: size > maxBytes, failed };
}
