// The send stage's claim and outcome statements on their own, against a real database.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createOutboxRepository, type OutboxRepository } from '../../src/deliveries/outbox-repository.js';
import { UNCERTAIN_FAILURE_REASON } from '../../src/deliveries/send-policy.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';

describe('outbox repository', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let outbox: OutboxRepository;
  let nextContact = 90_000;

  before(async () => {
    deps = await buildTestDeps();
    outbox = createOutboxRepository(deps.db);
  });
  afterEach(async () => {
    await deps.db('message_history').where({ status: 'pending' }).update({ status: 'cancelled' });
  });
  after(async () => {
    await deps?.testDb.drop();
  });

  const contact = () => {
    nextContact += 1;
    return nextContact;
  };
  async function queue(
    contactId: number,
    replies: Array<{ body: string; dueInMs?: number; leaseInMs?: number; uncertainAttempts?: number; lastError?: string }>,
  ): Promise<number[]> {
    const ids: number[] = [];
    for (const reply of replies) {
      const [row] = await deps.db('message_history')
        .insert({
          contact_id: contactId,
          ticket_id: contactId,
          direction: 'outbound',
          body: reply.body,
          status: 'pending',
          uncertain_attempts: reply.uncertainAttempts ?? 0,
          last_error: reply.lastError ?? null,
          due_at: deps.db.raw("now() + ? * interval '1 millisecond'", [reply.dueInMs ?? 0]),
          claimed_until: reply.leaseInMs === undefined ? null : deps.db.raw("now() + ? * interval '1 millisecond'", [reply.leaseInMs]),
        })
        .returning('id');
      ids.push(row.id);
    }
    return ids;
  }
  const row = (id: number) => deps.db('message_history').where({ id }).first();

  it('claims each contact\'s first pending reply only, up to the limit, and leases it', async () => {
    const [a1] = await queue(contact(), [{ body: 'a1' }, { body: 'a2' }]);
    const [b1] = await queue(contact(), [{ body: 'b1' }]);
    const [c1] = await queue(contact(), [{ body: 'c1' }]);
    const first = await outbox.claim(2, 10_000);
    expect(first.replies.map((reply) => reply.id)).to.deep.equal([a1, b1]);
    expect(first.replies[0]).to.include({ body: 'a1', attempts: 1, uncertainAttempts: 0 });
    const leased = await row(a1!);
    expect(new Date(leased.claimed_until).getTime() - Date.now()).to.be.within(8_000, 11_000);
    // a2 waits behind a1 (leased, still pending); c1 was beyond the limit.
    const second = await outbox.claim(10, 10_000);
    expect(second.replies.map((reply) => reply.id)).to.deep.equal([c1]);
    expect((await outbox.claim(10, 10_000)).replies).to.deep.equal([]);
  });

  it('reports when the next reply becomes due, or a lease runs out', async () => {
    await queue(contact(), [{ body: 'later', dueInMs: 3_000 }]);
    const claimed = await outbox.claim(10, 10_000);
    expect(claimed.replies).to.deep.equal([]);
    expect(claimed.nextDueInMs).to.be.within(2_800, 3_000);
    await queue(contact(), [{ body: 'leased', leaseInMs: 1_000 }]);
    expect((await outbox.claim(10, 10_000)).nextDueInMs).to.be.within(800, 1_000);
    await deps.db('message_history').where({ status: 'pending' }).update({ status: 'cancelled' });
    expect((await outbox.claim(10, 10_000)).nextDueInMs).to.equal(null);
  });

  it('fails instead of claiming a reply whose lease expired a second time', async () => {
    const who = contact();
    const [twice, next] = await queue(who, [{ body: 'twice', leaseInMs: -1, uncertainAttempts: 1 }, { body: 'next' }]);
    const claimed = await outbox.claim(10, 10_000);
    expect(claimed.replies).to.deep.equal([]);
    expect(claimed.givenUp).to.deep.equal([{ kind: 'given_up', id: twice, contactId: who, conversationId: null, uncertainAttempts: 2 }]);
    expect(await row(twice!)).to.include({ status: 'failed', attempts: 0, claimed_until: null, last_error: UNCERTAIN_FAILURE_REASON });
    expect((await outbox.claim(10, 10_000)).replies.map((reply) => reply.id)).to.deep.equal([next]);
  });

  it('writes a batch of outcomes in one statement, each only while the row holds the lease it was claimed with', async () => {
    const [sent] = await queue(contact(), [{ body: 'sent' }]);
    const [retried] = await queue(contact(), [{ body: 'retried' }]);
    const [failed] = await queue(contact(), [{ body: 'failed' }]);
    const [released] = await queue(contact(), [{ body: 'released', lastError: 'earlier error' }]);
    const [stale] = await queue(contact(), [{ body: 'stale' }]);
    const claimed = await outbox.claim(10, 10_000);
    const lease = (id: number) => claimed.replies.find((reply) => reply.id === id)!.claimedUntil;
    const written = await outbox.recordOutcomes([
      { id: sent!, claimedUntil: lease(sent!), kind: 'sent', status: 'sent' },
      { id: retried!, claimedUntil: lease(retried!), kind: 'retry', delayMs: 4_000, error: 'ETIMEDOUT', uncertain: true },
      { id: failed!, claimedUntil: lease(failed!), kind: 'failed', error: 'GOSAC answered 400', uncertain: false },
      { id: released!, claimedUntil: lease(released!), kind: 'release' },
      // Another claim's lease: not ours to write.
      { id: stale!, claimedUntil: '2000-01-01 00:00:00+00', kind: 'sent', status: 'sent' },
    ]);
    expect(written).to.deep.equal([true, true, true, true, false]);
    expect(await row(sent!)).to.include({ status: 'sent', attempts: 1, claimed_until: null, last_error: null });
    expect((await row(sent!)).sent_at).to.be.an.instanceOf(Date);
    const retry = await row(retried!);
    expect(retry).to.include({ status: 'pending', attempts: 1, uncertain_attempts: 1, claimed_until: null, last_error: 'ETIMEDOUT' });
    expect(new Date(retry.due_at).getTime() - Date.now()).to.be.within(3_000, 4_100);
    expect(await row(failed!)).to.include({ status: 'failed', attempts: 1, uncertain_attempts: 0, last_error: 'GOSAC answered 400' });
    expect(await row(released!)).to.include({ status: 'pending', attempts: 0, claimed_until: null, last_error: 'earlier error' });
    expect(await row(stale!)).to.include({ status: 'pending', attempts: 1 });
    // Written once: a second write of the same outcome finds the lease gone.
    expect(await outbox.recordOutcomes([{ id: sent!, claimedUntil: lease(sent!), kind: 'sent', status: 'sent' }])).to.deep.equal([false]);
  });

  it('moves a contact\'s later replies by as much as a sent one was late, so each keeps its delay after the one before', async () => {
    const who = contact();
    const [late, together, second, third] = await queue(who, [
      { body: 'late', dueInMs: -3_000 },
      { body: 'together', dueInMs: -3_000 }, // no delay of its own: goes right after, as planned
      { body: 'second', dueInMs: -2_000 },
      { body: 'third', dueInMs: -1_000 },
    ]);
    // A step stamps both with one clock; separate inserts would not.
    await deps.db('message_history').where({ id: together }).update({ due_at: deps.db('message_history').select('due_at').where({ id: late }) });
    const [otherContact] = await queue(contact(), [{ body: 'other', dueInMs: 5_000 }]);
    const retriedContact = contact();
    const [retried, afterRetried] = await queue(retriedContact, [{ body: 'retried', dueInMs: -3_000 }, { body: 'after', dueInMs: -2_000 }]);
    const dueIn = async (id: number) => new Date((await row(id)).due_at).getTime() - Date.now();
    const claimed = await outbox.claim(10, 10_000);
    const lease = (id: number) => claimed.replies.find((reply) => reply.id === id)!.claimedUntil;
    await outbox.recordOutcomes([
      { id: late!, claimedUntil: lease(late!), kind: 'sent', status: 'sent' },
      { id: retried!, claimedUntil: lease(retried!), kind: 'retry', delayMs: 1_000, error: 'GOSAC answered 503', uncertain: false },
    ]);
    expect(await dueIn(together!)).to.be.below(-2_500);
    // Bounds allow for the milliseconds between the inserts and between the statement and the reads.
    expect(await dueIn(second!)).to.be.within(700, 1_100);
    expect(await dueIn(third!)).to.be.within(1_700, 2_100);
    expect(await dueIn(otherContact!)).to.be.within(4_500, 5_000);
    // Put back for a retry a second from now: what follows it keeps its delay after it.
    expect(await dueIn(afterRetried!)).to.be.within(1_700, 2_100);
  });

  it('never claims a cancelled reply, and a cancelled one does not hold the line', async () => {
    const who = contact();
    const [cancelled, pending] = await queue(who, [{ body: 'cancelled' }, { body: 'pending' }]);
    await deps.db('message_history').where({ id: cancelled }).update({ status: 'cancelled' });
    expect((await outbox.claim(10, 10_000)).replies.map((reply) => reply.id)).to.deep.equal([pending]);
  });
});
