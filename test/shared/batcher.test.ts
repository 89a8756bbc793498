import { expect } from 'chai';
import { createBatcher } from '../../src/shared/batcher.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** A flush that records its batches and completes each one when the test says so. */
function controlledFlush() {
  const batches: number[][] = [];
  const pending: Array<Deferred<void>> = [];
  const flush = async (items: number[]): Promise<string[]> => {
    batches.push([...items]);
    const gate = deferred<void>();
    pending.push(gate);
    await gate.promise;
    return items.map((item) => `r${item}`);
  };
  return { batches, pending, flush };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('createBatcher', () => {
  it('gives every caller its own result, in submission order, from one batch', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher(async (items: number[]) => {
      batches.push(items);
      return items.map((item) => item * 10);
    }, { maxSize: 64 });
    const results = await Promise.all([1, 2, 3, 4].map((item) => batcher.submit(item)));
    expect(results).to.deep.equal([10, 20, 30, 40]);
    expect(batches).to.deep.equal([[1, 2, 3, 4]]);
    expect(batcher.pending).to.equal(0);
  });

  it('gathers the next batch while one is being flushed, and flushes it as soon as that one ends', async () => {
    const { batches, pending, flush } = controlledFlush();
    const batcher = createBatcher(flush, { maxSize: 64 });
    const first = batcher.submit(1);
    await turn();
    expect(batches).to.deep.equal([[1]]);
    const next = [2, 3, 4].map((item) => batcher.submit(item));
    await turn();
    expect(batches, 'no second batch while the first is in flight').to.have.length(1);
    expect(batcher.pending).to.equal(4);
    pending[0]!.resolve();
    expect(await first).to.equal('r1');
    await turn();
    expect(batches).to.deep.equal([[1], [2, 3, 4]]);
    pending[1]!.resolve();
    expect(await Promise.all(next)).to.deep.equal(['r2', 'r3', 'r4']);
  });

  it('never hands flush more than maxSize items', async () => {
    const { batches, pending, flush } = controlledFlush();
    const batcher = createBatcher(flush, { maxSize: 3 });
    const all = Array.from({ length: 8 }, (_, item) => batcher.submit(item));
    for (let round = 0; round < 3; round += 1) {
      while (pending[round] === undefined) await turn();
      pending[round]!.resolve();
    }
    expect(await Promise.all(all)).to.deep.equal(all.map((_, item) => `r${item}`));
    expect(batches).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7]]);
  });

  it('runs up to maxInFlight batches at once', async () => {
    const { batches, pending, flush } = controlledFlush();
    const batcher = createBatcher(flush, { maxSize: 2, maxInFlight: 2 });
    const all = Array.from({ length: 5 }, (_, item) => batcher.submit(item));
    await turn();
    expect(batches).to.deep.equal([[0, 1], [2, 3]]);
    pending[1]!.resolve();
    await turn();
    await turn();
    expect(batches).to.deep.equal([[0, 1], [2, 3], [4]]);
    pending[0]!.resolve();
    pending[2]!.resolve();
    expect(await Promise.all(all)).to.have.length(5);
  });

  it('rejects every item of a failed batch with its error, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = createBatcher(async (items: number[]) => {
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
      return items.map(String);
    }, { maxSize: 64 });
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(failed.map((result) => result.status)).to.deep.equal(['rejected', 'rejected']);
    expect(failed.map((result) => (result as PromiseRejectedResult).reason.message)).to.deep.equal([
      'database unavailable',
      'database unavailable',
    ]);
    expect(await batcher.submit(3)).to.equal('3');
    expect(batcher.pending).to.equal(0);
  });

  it('rejects the whole batch when flush returns the wrong number of results', async () => {
    const batcher = createBatcher(async (items: number[]) => items.slice(1), { maxSize: 64 });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.every((result) => result.status === 'rejected')).to.equal(true);
  });

  it('refuses limits that are not positive integers', () => {
    const flush = async (items: number[]) => items;
    expect(() => createBatcher(flush, { maxSize: 0 })).to.throw(RangeError);
    expect(() => createBatcher(flush, { maxSize: 4, maxInFlight: 0 })).to.throw(RangeError);
    expect(() => createBatcher(flush, { maxSize: 1.5 })).to.throw(RangeError);
  });
});
