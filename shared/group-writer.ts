// Writes concurrent items in groups, with no timer: an item goes out at once while fewer than
// `maxInFlight` groups are being written; otherwise it waits, and whatever waited goes together
// (up to `maxItems`) when a group finishes. Alone, an item waits for nothing; under load the groups
// grow by themselves, one statement and one commit for many requests.
// A group that fails is written again one item at a time, so an item's error is its own: a caller
// whose item was in a group that committed before the error then gets that item's replay verdict.
// A group that has not settled after `timeoutMs` fails as a whole and frees its place: one query
// that never answers (RELIABILITY.md, known limits) must not stop every later write.
export interface GroupWriter<I, R> {
  /** Resolves with this item's result once a group holding it was written. */
  write(item: I): Promise<R>;
}

export interface GroupWriterOptions {
  maxInFlight: number;
  maxItems: number;
  timeoutMs: number;
}

export class GroupWriteTimeout extends Error {
  readonly kind = "group_write_timeout";
  constructor(timeoutMs: number) {
    super(`a group write did not settle within ${timeoutMs} ms`);
  }
}

function settledWithin<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GroupWriteTimeout(timeoutMs)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createGroupWriter<I, R>(
  flush: (items: I[]) => Promise<R[]>,
  opts: GroupWriterOptions,
): GroupWriter<I, R> {
  type Waiting = { item: I; resolve: (r: R) => void; reject: (e: unknown) => void };
  const waiting: Waiting[] = [];
  let inFlight = 0;

  const flushWithin = (group: Waiting[]) =>
    settledWithin(flush(group.map((w) => w.item)), opts.timeoutMs);

  const release = () => {
    inFlight -= 1;
    pump();
  };

  // Item by item, each its own verdict, still in the failed group's place.
  const writeAlone = (group: Waiting[]) =>
    Promise.all(group.map(async (w) => {
      try {
        w.resolve((await flushWithin([w]))[0]);
      } catch (error) {
        w.reject(error);
      }
    }));

  // Holds one place in flight. A written group frees it before its callers resume, so the next
  // group is on its way to the database while they answer (bench scenario 4: the one backend
  // writing groups sat idle about half the time, waiting for the next group).
  const writeGroup = async (group: Waiting[]): Promise<void> => {
    let results: R[];
    try {
      results = await flushWithin(group);
    } catch (error) {
      if (group.length > 1 && !(error instanceof GroupWriteTimeout)) await writeAlone(group);
      else for (const w of group) w.reject(error);
      release();
      return;
    }
    release();
    group.forEach((w, i) => w.resolve(results[i]));
  };

  const pump = () => {
    while (inFlight < opts.maxInFlight && waiting.length > 0) {
      inFlight += 1;
      void writeGroup(waiting.splice(0, opts.maxItems));
    }
  };

  return {
    write: (item) =>
      new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      }),
  };
}
