// Runs `fn` over `items` with at most `limit` calls in flight, keeping results in input order.
// The first failure rejects it and no further item starts (measured: a failed dispatch round kept
// starting the rest of its batch in the background, which outlived its leases and raced the next
// round over the same events). Calls already in flight run to their end; waiting for them would
// let one query that never settles (RELIABILITY.md, known limits) hold the failed round for good.
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
