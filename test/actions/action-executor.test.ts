// The action executor against a real database with handlers of the test's own: retries with
// backoff, exhausted retries and permanent refusals as failures, one run at a time per contact in
// request order, a lease that ran out repeated once and never twice, success recorded once.
import { expect } from 'chai';
import { ActionError } from '../../src/actions/action-errors.js';
import { actionBackoffMs, createActionExecutor, type ActionExecutorOptions } from '../../src/actions/action-executor.js';
import type { ActionHandler } from '../../src/actions/action-handlers.js';
import type { ActionRun } from '../../src/actions/action-run-repository.js';
import { createLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const options: ActionExecutorOptions = { concurrency: 8, leaseMs: 60_000, maxAttempts: 3, retryBaseMs: 10, idlePollMs: 50 };

describe('action executor (ADR 0008)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  before(async () => {
    testDb = await createTestDatabase();
  });
  after(() => testDb.drop());

  async function insertRun(contactId: number, type: string): Promise<number> {
    const [row] = await testDb.db('action_runs').insert({ contact_id: contactId, action_type: type, action: JSON.stringify({ type }) }).returning('id');
    return Number((row as { id: number }).id);
  }
  const run = async (id: number) => (await testDb.db('action_runs').where({ id }).first()) as ActionRun;
  const executor = (handlers: Record<string, ActionHandler>, extra: Partial<ActionExecutorOptions> = {}) =>
    createActionExecutor({ db: testDb.db, logger: createLogger('silent'), handlers, options: { ...options, ...extra } });
  /** Runs rounds until nothing is pending (waiting out backoffs). */
  async function drain(subject: ReturnType<typeof executor>) {
    for (let round = 0; round < 100; round += 1) {
      await subject.runOnce();
      const pending = await testDb.db('action_runs').where({ status: 'pending' }).count<{ count: string }[]>({ count: '*' });
      if (Number(pending[0]?.count) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    throw new Error('runs still pending');
  }

  it('retries a retryable error with backoff and records the success once', async () => {
    let calls = 0;
    const id = await insertRun(1, 'flaky');
    const subject = executor({ flaky: async () => (++calls < 3 ? Promise.reject(new ActionError('busy (503)', true)) : 'done') });
    await drain(subject);
    expect(calls).to.equal(3);
    expect(await run(id)).to.include({ status: 'succeeded', result: 'done', attempts: 3, claimed_until: null });
    await subject.runOnce();
    expect(calls).to.equal(3);
  });

  it('fails after ACTION_MAX_ATTEMPTS, and at once on a permanent refusal', async () => {
    const tired = await insertRun(2, 'down');
    const refused = await insertRun(3, 'refused');
    const subject = executor({
      down: () => Promise.reject(new ActionError('Pontta answered 503', true)),
      refused: () => Promise.reject(new ActionError('Pontta answered 400: bad title', false)),
    });
    await drain(subject);
    expect(await run(tired)).to.include({ status: 'failed', attempts: 3, last_error: 'Pontta answered 503 (gave up after 3 attempts)' });
    expect(await run(refused)).to.include({ status: 'failed', attempts: 1, last_error: 'Pontta answered 400: bad title' });
  });

  it('runs one action at a time per contact, in the order they were requested', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const first = await insertRun(4, 'slow');
    const second = await insertRun(4, 'fast');
    const other = await insertRun(5, 'fast');
    const subject = executor({
      slow: () => new Promise<string>((resolve) => {
        order.push('slow');
        release = () => resolve('s');
      }),
      fast: async (r) => {
        order.push(`fast ${r.contact_id}`);
        return 'f';
      },
    });
    const round = subject.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The other contact is not held back; the same contact's second action waits.
    expect(order.sort()).to.deep.equal(['fast 5', 'slow']);
    expect((await run(second)).status).to.equal('pending');
    release();
    await round;
    await drain(subject);
    expect(order).to.deep.equal(['fast 5', 'slow', 'fast 4']);
    for (const id of [first, second, other]) expect((await run(id)).status).to.equal('succeeded');
  });

  it('repeats a run whose lease ran out once, and fails it rather than repeat it twice', async () => {
    const id = await insertRun(6, 'lost');
    let calls = 0;
    const crashing = executor({ lost: async () => `call ${++calls}` }, { leaseMs: 500, beforeRecord: () => Promise.reject(new Error('killed')) });
    await crashing.runOnce();
    expect(await run(id)).to.include({ status: 'pending', uncertain_attempts: 0 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await crashing.runOnce();
    expect(calls).to.equal(2);
    expect(await run(id)).to.include({ status: 'pending', uncertain_attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await crashing.runOnce();
    expect(calls).to.equal(2);
    const failed = await run(id);
    expect(failed).to.include({ status: 'failed', uncertain_attempts: 2 });
    expect(failed.last_error).to.match(/not repeated/);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(actionBackoffMs(1, 1000, () => 0.5)).to.equal(1000);
    expect(actionBackoffMs(3, 1000, () => 0.5)).to.equal(4000);
    expect(actionBackoffMs(30, 1000, () => 1)).to.equal(360_000);
  });
});
