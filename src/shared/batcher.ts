// Group commit: callers that arrive while a batch is being written wait together and are written
// as the next batch, so N concurrent callers cost about one round trip instead of N.

export interface BatcherOptions {
  /** Largest batch handed to `flush`; more waiting items go into the following batch. */
  readonly maxSize: number;
  /** Batches written at the same time (1: while one is written, the next one gathers). */
  readonly maxInFlight?: number;
}

export interface Batcher<I, O> {
  /** Resolves with this item's result once its batch is flushed, or rejects with the batch's error. */
  submit(item: I): Promise<O>;
  /** Items waiting or being flushed. */
  readonly pending: number;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `flush` gets the items in submission order and must return one result per item, in the same
 * order; when it throws (or returns the wrong count) every item of that batch is rejected.
 * An idle batcher flushes on the next turn of the event loop (`setImmediate`), so the callers of
 * one I/O phase share a batch without waiting on a timer; while `maxInFlight` batches are being
 * written, new items gather and go as soon as one finishes.
 */
export function createBatcher<I, O>(flush: (items: I[]) => Promise<O[]>, options: BatcherOptions): Batcher<I, O> {
  const maxSize = options.maxSize;
  const maxInFlight = options.maxInFlight ?? 1;
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError('maxSize must be a positive integer');
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');

  let queue: Array<Waiting<I, O>> = [];
  let inFlight = 0;
  let inFlightItems = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(drain);
  }

  function drain(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.length <= maxSize ? queue : queue.slice(0, maxSize);
      queue = queue.length <= maxSize ? [] : queue.slice(maxSize);
      void run(batch);
    }
  }

  async function run(batch: Array<Waiting<I, O>>): Promise<void> {
    inFlight += 1;
    inFlightItems += batch.length;
    try {
      const results = await flush(batch.map((waiting) => waiting.item));
      if (results.length !== batch.length) {
        throw new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
      }
      batch.forEach((waiting, index) => waiting.resolve(results[index] as O));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      inFlight -= 1;
      inFlightItems -= batch.length;
      schedule();
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    get pending() {
      return queue.length + inFlightItems;
    },
  };
}
