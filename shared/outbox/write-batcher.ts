// Combines writes that arrive close together into one call: concurrent deliveries finishing at
// about the same time are recorded by one statement instead of one each (measured: per-statement
// trigger and commit costs made Postgres the bottleneck of a mass expiry). The last of the `total`
// items a batcher will be given goes at once: nothing else could join it (a single delivery, the
// end of a claimed batch).
export interface WriteBatcher<I, R> {
  /** Resolves with this item's result once the batch holding it was written. */
  add(item: I): Promise<R>;
}

export function createWriteBatcher<I, R>(
  flush: (items: I[]) => Promise<R[]>,
  opts: { maxItems: number; maxDelayMs: number; total?: number },
): WriteBatcher<I, R> {
  type Waiting = { item: I; resolve: (r: R) => void; reject: (e: unknown) => void };
  let pending: Waiting[] = [];
  let added = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const run = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = [];
    try {
      const results = await flush(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };

  return {
    add: (item) =>
      new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        added += 1;
        if (pending.length >= opts.maxItems || added === opts.total) void run();
        else timer ??= setTimeout(() => void run(), opts.maxDelayMs);
      }),
  };
}
