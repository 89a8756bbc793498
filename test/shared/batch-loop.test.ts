import { expect } from 'chai';
import { createBatchLoop, type BatchLoop } from '../../src/shared/batch-loop.js';
import { createLogger } from '../../src/shared/logger.js';

const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loop over scripted batches: each returns the next `claimed`, and records what the loop asked. */
function scripted(claims: number[], options: { onBatch?: (index: number, loop: BatchLoop) => void } = {}) {
  const calls = { batches: 0, nextDue: 0 };
  const loop: BatchLoop = createBatchLoop({
    name: 'test',
    concurrency: 1,
    batchSize: 4,
    idlePollMs: 60_000,
    runBatch: async () => {
      const index = calls.batches;
      calls.batches += 1;
      options.onBatch?.(index, loop);
      return { claimed: claims[index] ?? 0 };
    },
    nextDue: async () => {
      calls.nextDue += 1;
      return undefined;
    },
    now: Date.now,
    log: createLogger('silent'),
  });
  return { loop, calls };
}

describe('batch loop', () => {
  it('goes again at once after a full batch, and sleeps until poked after one that was not', async () => {
    const { loop, calls } = scripted([4, 4, 1]);
    await loop.start();
    await settle();
    expect(calls).to.deep.equal({ batches: 3, nextDue: 1 });
    loop.poke();
    await settle();
    expect(calls.batches).to.equal(4);
    await loop.stop();
  });

  it('after a batch during which it was poked, looks again at once without asking when work is next due', async () => {
    const { loop, calls } = scripted([1, 1, 0], { onBatch: (index, self) => index === 0 && self.poke() });
    await loop.start();
    await settle();
    expect(calls.batches).to.equal(2);
    expect(calls.nextDue, 'asked after the second batch only').to.equal(1);
    await loop.stop();
  });
});
