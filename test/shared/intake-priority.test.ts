import { expect } from 'chai';
import { createIntakePriority, eventLoopBusyness, type IntakePriorityOptions } from '../../src/shared/intake-priority.js';

// The clock the priority reads is ours: the average of waiting webhooks moves only when the test
// advances it. Waits re-check at least every `averageMs` of real time, so that is kept short.
const OPTIONS: IntakePriorityOptions = { congestedAt: 4, averageMs: 5, busyAt: 0.8, webhooksPerInput: 3, maxWaitMs: 10_000, quietMs: 2 };

function setup(options: Partial<IntakePriorityOptions> = {}) {
  let clock = 0;
  let busyness = 1;
  const priority = createIntakePriority({ ...OPTIONS, ...options }, () => clock, () => busyness);
  const open: Array<() => void> = [];
  return {
    priority,
    advance(ms: number) {
      clock += ms;
    },
    /** The share of the last window the event loop ran code. */
    threadBusy(share: number) {
      busyness = share;
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

/** 20 webhooks have been waiting for 100 ms: a pile-up. */
function congested(options: Partial<IntakePriorityOptions> = {}) {
  const environment = setup(options);
  environment.arrive(20);
  environment.advance(100);
  return environment;
}

/** A batch of `claimed` contacts that has run (and taken its turn). */
async function ranBatch(priority: ReturnType<typeof setup>['priority'], claimed: number): Promise<void> {
  const batch = controlledBatch(claimed);
  batch.finish();
  await priority.run(batch.run);
}

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
    const { priority, arrive, answer } = congested();
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

  it('lets the next batch run, whatever it owes, once no webhook has been waiting for quietMs (a closed loop, not a flood)', async () => {
    const { priority, answer, advance } = congested();
    await ranBatch(priority, 100);
    const next = controlledBatch(1);
    const run = priority.run(next.run);
    answer(20);
    await settle();
    expect(next.started(), 'nobody waits, but not for quietMs yet').to.equal(false);
    advance(2);
    await settle();
    expect(next.started(), '300 webhooks still owed, none coming').to.equal(true);
    next.finish();
    await run;
  });

  it('keeps a batch waiting while webhooks keep coming, even if each is answered at once', async () => {
    const { priority, arrive, answer, advance } = congested();
    await ranBatch(priority, 100);
    const next = controlledBatch(1);
    const run = priority.run(next.run);
    answer(20);
    for (let i = 0; i < 5; i += 1) {
      advance(1);
      arrive(1);
      await settle(2);
      answer(1);
    }
    await settle();
    expect(next.started(), 'never quiet for 2 ms').to.equal(false);
    advance(2);
    await settle();
    expect(next.started()).to.equal(true);
    next.finish();
    await run;
  });

  it('does not hold batches back for webhooks that wait on the database while the thread is idle', async () => {
    const { priority, threadBusy } = congested();
    threadBusy(0.3);
    await ranBatch(priority, 100);
    const next = controlledBatch(1);
    const run = priority.run(next.run);
    await settle(1);
    expect(next.started(), 'holding it back would not answer them sooner').to.equal(true);
    next.finish();
    await run;
  });

  it('lets one batch run at a time while congested', async () => {
    const { priority } = congested();
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
    const { priority, advance } = congested({ maxWaitMs: 500 });
    await ranBatch(priority, 100);
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
    const { priority, answer, advance } = congested();
    await ranBatch(priority, 100);
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

  it('keeps to the turns until the pile-up is well below the threshold, not just under it', async () => {
    const { priority, answer, advance, threadBusy } = congested();
    await ranBatch(priority, 100);
    const next = controlledBatch(1);
    const run = priority.run(next.run);
    answer(17);
    advance(100);
    threadBusy(0.6);
    await settle();
    expect(next.started(), '3 waiting and 60 % busy: under the thresholds (4, 80 %), not under half of them').to.equal(false);
    answer(2);
    advance(100);
    await settle();
    expect(next.started()).to.equal(true);
    next.finish();
    await run;
  });

  it('hands the turn on when a batch fails, and passes its error to the caller', async () => {
    const { priority } = congested();
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
    await ranBatch(priority, 1);
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

  it("reads the thread's busyness from node's event loop counters, per completed window", async () => {
    const busyness = eventLoopBusyness(50);
    const spinUntil = performance.now() + 80;
    while (performance.now() < spinUntil) {
      // running code: the event loop is active
    }
    expect(busyness()).to.be.greaterThan(0.8);
    await settle(80);
    expect(busyness()).to.be.lessThan(0.5);
  });
});
