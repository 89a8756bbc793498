// deliver_contact against a real database and the fake GOSAC: order, due times, retries, failures.
import { expect } from 'chai';
import type { JobHelpers } from 'graphile-worker';
import type { CoreDeps } from '../../src/app-deps.js';
import { createGosacClient } from '../../src/integrations/gosac-client.js';
import { backoffMs, createDeliverContactTask, MAX_DELIVERY_ATTEMPTS } from '../../src/jobs/tasks/deliver-contact.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';

describe('deliver_contact task', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let gosac: FakeGosac;
  let clock = Date.now();
  let nextContact = 2_000;
  const logger = createLogger('silent');
  const helpers = {} as JobHelpers;

  before(async () => {
    deps = await buildTestDeps();
    gosac = await startFakeGosac();
  });
  beforeEach(() => {
    clock = Date.now();
    nextContact += 1;
    gosac.reset();
  });
  after(async () => {
    await gosac.stop();
    await deps.testDb.drop();
  });

  const task = (key = 'INTEGRATION k') =>
    createDeliverContactTask({
      db: deps.db,
      logger,
      now: () => clock,
      random: () => 0.5,
      gosac: createGosacClient({
        baseUrl: gosac.url,
        authorizationKey: key || undefined,
        sendMode: 'ticket',
        timeoutMs: 2_000,
        production: false,
        logger,
      }),
    });

  async function queue(contactId: number, bodies: string[], dueOffsetsMs: number[] = []): Promise<void> {
    await deps.db('message_history').insert(
      bodies.map((body, index) => ({
        contact_id: contactId,
        ticket_id: contactId + 1,
        direction: 'outbound',
        body,
        status: 'pending',
        reason: 'flow',
        due_at: new Date(clock + (dueOffsetsMs[index] ?? 0)),
      })),
    );
  }
  const rows = (contactId: number) =>
    deps.db('message_history').where({ contact_id: contactId }).orderBy('id').select('body', 'status', 'attempts', 'due_at', 'last_error');
  const jobRunAt = async (contactId: number) => {
    const result = await deps.db.raw('SELECT run_at FROM graphile_worker.jobs WHERE key = ?', [`deliver:${contactId}`]);
    return result.rows.map((row: { run_at: Date }) => new Date(row.run_at).getTime());
  };
  const sentTexts = (contactId: number) => gosac.requestsTo(`/messages/${contactId + 1}`).map((request) => request.body.body);

  it('sends every due reply in order and marks them sent', async () => {
    const contactId = nextContact;
    await queue(contactId, ['um', 'dois', 'três']);
    await task()({ contactId }, helpers);
    expect(sentTexts(contactId)).to.deep.equal(['um', 'dois', 'três']);
    expect((await rows(contactId)).map((row) => [row.status, row.attempts])).to.deep.equal([
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);
  });

  it('stops at a reply not yet due and schedules itself for it', async () => {
    const contactId = nextContact;
    await queue(contactId, ['agora', 'depois', 'por último'], [0, 3_000, 3_000]);
    await task()({ contactId }, helpers);
    expect(sentTexts(contactId)).to.deep.equal(['agora']);
    expect(await jobRunAt(contactId)).to.deep.equal([clock + 3_000]);
    clock += 3_000;
    await task()({ contactId }, helpers);
    expect(sentTexts(contactId)).to.deep.equal(['agora', 'depois', 'por último']);
  });

  it('backs off after a retryable failure, holding later replies back, then sends each once in order', async () => {
    const contactId = nextContact;
    await queue(contactId, ['primeira', 'segunda']);
    gosac.failNext(1, 503);
    await task()({ contactId }, helpers);
    const [first, second] = await rows(contactId);
    expect(first).to.include({ status: 'pending', attempts: 1 });
    expect(first!.last_error).to.match(/503/);
    expect(new Date(first!.due_at).getTime()).to.equal(clock + 1_000);
    expect(second).to.include({ status: 'pending', attempts: 0 });
    expect(await jobRunAt(contactId)).to.deep.equal([clock + 1_000]);

    clock += 1_000;
    await task()({ contactId }, helpers);
    expect(sentTexts(contactId)).to.deep.equal(['primeira', 'segunda']);
    expect(gosac.attemptsTo(`/messages/${contactId + 1}`)).to.have.length(3);
  });

  it('honours Retry-After', async () => {
    const contactId = nextContact;
    await queue(contactId, ['x']);
    gosac.failNext(1, 429, { retryAfter: '30' });
    await task()({ contactId }, helpers);
    expect(new Date((await rows(contactId))[0]!.due_at).getTime()).to.equal(clock + 30_000);
  });

  it('records a permanent failure and goes on with the next reply', async () => {
    const contactId = nextContact;
    await queue(contactId, ['recusada', 'aceita']);
    gosac.failNext(1, 400);
    await task()({ contactId }, helpers);
    expect((await rows(contactId)).map((row) => row.status)).to.deep.equal(['failed', 'sent']);
  });

  it(`gives up after ${MAX_DELIVERY_ATTEMPTS} attempts`, async () => {
    const contactId = nextContact;
    await queue(contactId, ['teimosa', 'próxima']);
    await deps.db('message_history').where({ contact_id: contactId, body: 'teimosa' }).update({ attempts: MAX_DELIVERY_ATTEMPTS - 1 });
    gosac.failNext(1, 500);
    await task()({ contactId }, helpers);
    expect((await rows(contactId)).map((row) => [row.status, row.attempts])).to.deep.equal([
      ['failed', MAX_DELIVERY_ATTEMPTS],
      ['sent', 1],
    ]);
  });

  it('stores replies as dry_run without a key', async () => {
    const contactId = nextContact;
    await queue(contactId, ['ensaio']);
    await task('')({ contactId }, helpers);
    expect((await rows(contactId))[0]).to.include({ status: 'dry_run' });
    expect(gosac.requests).to.have.length(0);
  });

  it('backs off exponentially with jitter, capped at five minutes', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, () => 0.5))).to.deep.equal([1_000, 2_000, 4_000, 8_000]);
    expect(backoffMs(20, () => 0.5)).to.equal(300_000);
    expect(backoffMs(1, () => 0)).to.equal(800);
    expect(backoffMs(1, () => 1)).to.equal(1_200);
  });
});
