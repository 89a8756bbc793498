import { expect } from 'chai';
import { createIntakePriority, type IntakePriorityOptions } from '../../src/shared/intake-priority.js';

// The clock the priority reads is ours: the average of waiting webhooks moves only when the test
// advances it. Waits re-check at least every `averageMs` of real time, so that is kept short.
const OPTIONS: IntakePriorityOptions = { congestedAt: 4, averageMs: 5, webhooksPerInput: 3, maxWaitMs: 10_000 };

function setup(options: Partial<IntakePriorityOptions> = {}) {
  let clock = 0;
  const priority = createIntakePriority({ ...OPTIONS, ...options }, () => clock);
  const open: Array<() => void> = [];
  return {
    priority,
    advance(ms: number) {
      clock += ms;
    },
    /** n webhooks arrive and stay unanswered. */
    arrive(n: number) {
      for (let i = 0; i < n; i += 1) open.push(priority.begin());
    },
    /** The n oldest webhooks are answered. */
    answer(n: number) {
      for (const end of open.splice(0, n)) end();
    },
  };
}

/** A batch that records when it ran and finishes when told. */
function controlledBatch(claimed: number) {
  let started = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      started = true;
      await done;
      return { claimed };
    },
    started: () => started,
    finish: () => finish(),
  };
}

const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('intake priority (webhooks first, ADR 0009)', () => {
  it('runs batches at once, side by side, while webhooks do not pile up', async () => {
    const { priority, arrive, advance } = setup();
    arrive(2);
    advance(1_000);
    const first = controlledBatch(64);
    const second = controlledBatch(64);
    const runs = [priority.run(first.run), priority.run(second.run)];
    await settle(1);
    expect(first.started() && second.started()).to.equal(true);
    first.finish();
    second.finish();
    expect(await Promise.all(runs)).to.deep.equal([{ claimed: 64 }, { claimed: 64 }]);
  });

  it('does not take a short burst of webhooks for a flood (the count is averaged over time)', async () => {
    const { priority, arrive, advance } = setup();
    arrive(10);
    advance(0.5);
    const batch = controlledBatch(5);
    const run = priority.run(batch.run);
    await settle(1);
    expect(batch.started()).to.equal(true);
    batch.finish();
    await run;
  });

  it('while webhooks pile up, the next batch waits until claimed × webhooksPerInput of them were answered', async () => {
    const { priority, arrive, answer, advance } = setup();
    arrive(20);
    advance(100);
    const first = controlledBatch(2);
    const firstRun = priority.run(first.run);
    await settle(1);
    expect(first.started(), 'the first turn is free').to.equal(true);
    first.finish();
    await firstRun;

    const second = controlledBatch(2);
    const secondRun = priority.run(second.run);
    await settle();
    expect(second.started()).to.equal(false);
    arrive(5);
    answer(5);
    await settle();
    expect(second.started(), '5 of the 6 webhooks it owes').to.equal(false);
    arrive(1);
    answer(1);
    await settle();
    expect(second.started()).to.equal(true);
    second.finish();
    await secondRun;
  });

  it('lets one batch run at a time while congested', async () => {
    const { priority, arrive, advance } = setup();
    arrive(20);
    advance(100);
    const first = controlledBatch(0);
    const second = controlledBatch(0);
    const runs = [priority.run(first.run), priority.run(second.run)];
    await settle();
    expect([first.started(), second.started()]).to.deep.equal([true, false]);
    first.finish();
    await runs[0];
    await settle();
    expect(second.started(), 'a batch that claimed nothing owes nothing').to.equal(true);
    second.finish();
    await runs[1];
  });

  it('gives the batches their turn after maxWaitMs however many webhooks are still owed', async () => {
    const { priority, arrive, advance } = setup({ maxWaitMs: 500 });
    arrive(20);
    advance(100);
    const first = controlledBatch(100);
    first.finish();
    await priority.run(first.run);
    const second = controlledBatch(1);
    const secondRun = priority.run(second.run);
    await settle();
    expect(second.started()).to.equal(false);
    advance(500);
    await settle();
    expect(second.started()).to.equal(true);
    second.finish();
    await secondRun;
  });

  it('runs waiting batches at once when the pile-up is over', async () => {
    const { priority, arrive, answer, advance } = setup();
    arrive(20);
    advance(100);
    const first = controlledBatch(100);
    first.finish();
    await priority.run(first.run);
    const second = controlledBatch(1);
    const third = controlledBatch(1);
    const runs = [priority.run(second.run), priority.run(third.run)];
    await settle();
    expect(second.started()).to.equal(false);
    answer(20);
    advance(100);
    await settle();
    expect([second.started(), third.started()]).to.deep.equal([true, true]);
    second.finish();
    third.finish();
    await Promise.all(runs);
  });

  it('hands the turn on when a batch fails, and passes its error to the caller', async () => {
    const { priority, arrive, advance } = setup();
    arrive(20);
    advance(100);
    let caught: unknown;
    await priority
      .run(async () => {
        throw new Error('database gone');
      })
      .catch((error: unknown) => (caught = error));
    expect((caught as Error).message).to.equal('database gone');
    const next = controlledBatch(1);
    const run = priority.run(next.run);
    await settle();
    expect(next.started(), 'a failed batch owes nothing').to.equal(true);
    next.finish();
    await run;
  });

  it('counts a webhook answered twice once', async () => {
    const { priority, advance } = setup();
    const ends = Array.from({ length: 20 }, () => priority.begin());
    advance(100);
    const first = controlledBatch(1);
    first.finish();
    await priority.run(first.run);
    const second = controlledBatch(1);
    const run = priority.run(second.run);
    const end = ends[0]!;
    end();
    end();
    end();
    await settle();
    expect(second.started(), 'one answer of the 3 owed').to.equal(false);
    ends[1]!();
    ends[2]!();
    await settle();
    expect(second.started()).to.equal(true);
    second.finish();
    await run;
  });
});
