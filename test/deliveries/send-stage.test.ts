// The send stage against a real database and the fake GOSAC on 127.0.0.1: order per contact, many
// contacts at once, due times, retries, give-ups, leases, cancelled replies, the retry route and
// shutdown. Rows are inserted as the step engine writes them (outbound, pending, due_at). The idle
// poll is a minute, so every reply that goes out in time was woken by the stage's own rules
// (a NOTIFY, an outcome written, the next due time), not by polling.
import { expect } from 'chai';
import { createSendStage, sendLeaseMs, type SendStage, type SendStageOptions } from '../../src/deliveries/send-stage.js';
import type { ClaimedReply } from '../../src/deliveries/outbox-repository.js';
import { MAX_DELIVERY_ATTEMPTS, UNCERTAIN_FAILURE_REASON } from '../../src/deliveries/send-policy.js';
import { createGosacClient } from '../../src/integrations/gosac-client.js';
import { createLogger } from '../../src/shared/logger.js';
import { createPgListener, type PgListener } from '../../src/shared/pg-listener.js';
import { eventually } from '../support/eventually.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';

const IDLE_POLL_MS = 60_000;

interface Queued {
  readonly body: string;
  readonly dueInMs?: number;
  readonly status?: string;
  readonly attempts?: number;
  readonly uncertainAttempts?: number;
  /** Lease relative to now (negative: expired). */
  readonly leaseInMs?: number;
  readonly lastError?: string;
}

describe('send stage', function () {
  this.timeout(30_000);
  let service: TestService;
  let gosac: FakeGosac;
  let listener: PgListener;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const stages: SendStage[] = [];
  let nextContact = 70_000;

  before(async () => {
    // ROLE=web: the service's HTTP API (the retry route) on its own database, and no worker that
    // could send the rows these tests write.
    service = await startTestService({ ROLE: 'web' });
    gosac = await startFakeGosac();
    listener = createPgListener(service.testDb.url, logger);
  });
  beforeEach(() => gosac.reset());
  afterEach(async () => {
    for (const stage of stages.splice(0)) await stage.stop(0);
    // Whatever a test left pending must not be sent by the next test's stage.
    await db()('message_history').where({ status: 'pending' }).update({ status: 'cancelled' });
  });
  after(async () => {
    await listener?.close();
    await gosac?.stop();
    await service?.stop();
    await service?.testDb.drop();
  });

  const db = () => service.testDb.db;
  const contact = () => {
    nextContact += 1;
    return nextContact;
  };
  const pathOf = (contactId: number) => `/messages/${contactId + 500}`;

  function start(options: Partial<SendStageOptions> = {}, gosacTimeoutMs = 5_000, maxSockets?: number): Promise<SendStage> {
    const concurrency = options.concurrency ?? 256;
    const stage = createSendStage({
      db: db(),
      logger,
      listener,
      random: () => 0,
      gosac: createGosacClient({
        baseUrl: gosac.url,
        authorizationKey: 'INTEGRATION send-stage-key',
        sendMode: 'ticket',
        timeoutMs: gosacTimeoutMs,
        production: false,
        logger,
        maxSockets: maxSockets ?? concurrency,
      }),
      options: { leaseMs: sendLeaseMs(gosacTimeoutMs), idlePollMs: IDLE_POLL_MS, ...options, concurrency },
    });
    stages.push(stage);
    return stage.start().then(() => stage);
  }

  /** Inserts the contact's replies in order (ids ascending); due times and leases by the database clock. */
  async function queue(contactId: number, replies: Queued[]): Promise<number[]> {
    const ids: number[] = [];
    for (const reply of replies) {
      const [row] = await db()('message_history')
        .insert({
          contact_id: contactId,
          ticket_id: contactId + 500,
          direction: 'outbound',
          body: reply.body,
          status: reply.status ?? 'pending',
          reason: 'flow',
          attempts: reply.attempts ?? 0,
          uncertain_attempts: reply.uncertainAttempts ?? 0,
          last_error: reply.lastError ?? null,
          due_at: db().raw("now() + ? * interval '1 millisecond'", [reply.dueInMs ?? 0]),
          claimed_until:
            reply.leaseInMs === undefined ? null : db().raw("now() + ? * interval '1 millisecond'", [reply.leaseInMs]),
        })
        .returning('id');
      ids.push(row.id);
    }
    return ids;
  }

  const rows = (contactId: number) =>
    db()('message_history')
      .where({ contact_id: contactId })
      .orderBy('id')
      .select('id', 'body', 'status', 'attempts', 'uncertain_attempts', 'claimed_until', 'last_error', 'due_at', 'sent_at');
  const texts = (contactId: number) => gosac.arrivalsTo(pathOf(contactId)).map((request) => request.body.body as string);
  const delivered = (contactId: number) => gosac.requestsTo(pathOf(contactId)).map((request) => request.body.body as string);

  async function allSent(contactId: number, timeoutMs = 10_000): Promise<void> {
    await eventually(async () => {
      const statuses = (await rows(contactId)).map((row) => row.status);
      expect(statuses.every((status) => status === 'sent'), statuses.join(',')).to.equal(true);
    }, timeoutMs, 20);
  }

  it('sends a contact\'s chain of replies due now in order, one at a time, each right after the previous one is recorded', async () => {
    const who = contact();
    await queue(who, [{ body: 'um' }, { body: 'dois' }, { body: 'três' }]);
    gosac.delayResponses(50);
    await start();
    await allSent(who);
    expect(texts(who)).to.deep.equal(['um', 'dois', 'três']);
    expect(gosac.maxConcurrent(pathOf(who))).to.equal(1);
    const sent = await rows(who);
    expect(sent.map((row) => [row.status, row.attempts, row.claimed_until, row.last_error])).to.deep.equal([
      ['sent', 1, null, null],
      ['sent', 1, null, null],
      ['sent', 1, null, null],
    ]);
    // Each reply was claimed only after the previous one's outcome was written.
    const arrivals = gosac.arrivalsTo(pathOf(who));
    for (let index = 1; index < arrivals.length; index += 1) {
      expect(arrivals[index]!.receivedAt - arrivals[index - 1]!.receivedAt).to.be.at.least(50);
      expect(new Date(sent[index]!.sent_at).getTime()).to.be.above(new Date(sent[index - 1]!.sent_at).getTime());
    }
  });

  it('keeps many contacts in flight at once', async () => {
    const contacts = Array.from({ length: 50 }, () => contact());
    for (const who of contacts) await queue(who, [{ body: `olá ${who}` }]);
    gosac.delayResponses(500);
    await start();
    for (const who of contacts) await allSent(who, 15_000);
    // Sequential sending would have kept one call open; the stage had (nearly) all 50 open at once.
    expect(gosac.maxConcurrent()).to.be.at.least(40);
    for (const who of contacts) expect(gosac.maxConcurrent(pathOf(who))).to.equal(1);
  });

  it('never has more than `concurrency` calls in flight', async () => {
    const contacts = Array.from({ length: 24 }, () => contact());
    for (const who of contacts) await queue(who, [{ body: 'a' }, { body: 'b' }]);
    gosac.delayResponses(300);
    // The client could open 256 connections: the limit is the stage's.
    await start({ concurrency: 8, claimBatch: 5 }, 5_000, 256);
    for (const who of contacts) await allSent(who, 15_000);
    expect(gosac.maxConcurrent()).to.equal(8);
    for (const who of contacts) expect(texts(who)).to.deep.equal(['a', 'b']);
  });

  it('sends a delayed reply when it is due, without holding back other contacts', async () => {
    const later = contact();
    const now = contact();
    await queue(later, [{ body: 'depois', dueInMs: 1_500 }]);
    const queuedAt = Date.now();
    await queue(now, [{ body: 'agora' }]);
    await start();
    await gosac.waitForMessages(pathOf(now), 1, 1_400);
    expect(texts(later)).to.deep.equal([]);
    const [sent] = await gosac.waitForMessages(pathOf(later), 1, 8_000);
    // On time: the stage slept until the due time the claim reported, not for its minute-long
    // idle poll (the upper bound leaves room for a loaded machine).
    expect(sent!.receivedAt - queuedAt).to.be.within(1_450, 6_000);
    await allSent(later);
  });

  it('retries after a 5xx with backoff, holding the contact\'s next reply behind it', async () => {
    const who = contact();
    await queue(who, [{ body: 'primeira' }, { body: 'segunda' }]);
    gosac.failNext(1, 500);
    await start();
    await allSent(who);
    const arrivals = gosac.arrivalsTo(pathOf(who));
    expect(arrivals.map((request) => [request.body.body, request.status])).to.deep.equal([
      ['primeira', 500],
      ['primeira', 200],
      ['segunda', 200],
    ]);
    // random() = 0: 1 s − 20 %.
    expect(arrivals[1]!.receivedAt - arrivals[0]!.receivedAt).to.be.within(790, 6_000);
    expect((await rows(who)).map((row) => [row.status, row.attempts, row.last_error])).to.deep.equal([
      ['sent', 2, null],
      ['sent', 1, null],
    ]);
  });

  it('waits as long as Retry-After says after a 429', async () => {
    const who = contact();
    await queue(who, [{ body: 'devagar' }]);
    gosac.failNext(1, 429, { retryAfter: '2' });
    await start();
    await eventually(async () => {
      const [row] = await rows(who);
      expect(row).to.include({ status: 'pending', attempts: 1, claimed_until: null });
      expect(row!.last_error).to.match(/429/);
    }, 5_000, 20);
    await allSent(who);
    const [refused, accepted] = gosac.arrivalsTo(pathOf(who));
    expect(refused!.status).to.equal(429);
    // The backoff alone would have been 800 ms.
    expect(accepted!.receivedAt - refused!.receivedAt).to.be.within(2_000, 7_000);
  });

  it('fails a reply GOSAC refuses for good (400) after one call, and the line moves on', async () => {
    const who = contact();
    await queue(who, [{ body: 'recusada' }, { body: 'aceita' }]);
    gosac.failNext(1, 400, { body: '{"error":"invalid ticket"}' });
    await start();
    await eventually(async () => {
      expect((await rows(who)).map((row) => row.status)).to.deep.equal(['failed', 'sent']);
    }, 10_000, 20);
    expect(texts(who)).to.deep.equal(['recusada', 'aceita']);
    const [failed] = await rows(who);
    expect(failed).to.include({ attempts: 1, uncertain_attempts: 0, claimed_until: null });
    expect(failed!.last_error).to.match(/400.*invalid ticket/);
  });

  it(`fails a reply at its ${MAX_DELIVERY_ATTEMPTS}th attempt, and the line moves on`, async () => {
    const who = contact();
    await queue(who, [{ body: 'teimosa', attempts: MAX_DELIVERY_ATTEMPTS - 1 }, { body: 'próxima' }]);
    gosac.failNext(1, 503);
    await start();
    await eventually(async () => {
      expect((await rows(who)).map((row) => [row.status, row.attempts])).to.deep.equal([
        ['failed', MAX_DELIVERY_ATTEMPTS],
        ['sent', 1],
      ]);
    }, 10_000, 20);
  });

  it('repeats a call that timed out once, then gives the reply up: two calls, at most one extra copy', async () => {
    const who = contact();
    await queue(who, [{ body: 'incerta' }, { body: 'seguinte' }]);
    // GOSAC takes the request and answers after the client gave up, twice.
    gosac.failNext(2, 200, { delayMs: 1_000 });
    await start({}, 150);
    await eventually(async () => {
      expect((await rows(who)).map((row) => row.status)).to.deep.equal(['failed', 'sent']);
    }, 10_000, 20);
    const [failed, next] = await rows(who);
    expect(failed).to.include({ attempts: 2, uncertain_attempts: 2, claimed_until: null });
    expect(failed!.last_error.startsWith(UNCERTAIN_FAILURE_REASON)).to.equal(true);
    expect(failed!.last_error).to.match(/ETIMEDOUT/);
    expect(next).to.include({ attempts: 1, uncertain_attempts: 0 });
    expect(texts(who)).to.deep.equal(['incerta', 'incerta', 'seguinte']);
  });

  it('reclaims a reply whose lease expired as an unknown outcome, gives up a second one, and leaves live leases alone', async () => {
    const died = contact();
    const diedTwice = contact();
    const leased = contact();
    await queue(died, [{ body: 'órfã', attempts: 1, leaseInMs: -1_000 }]);
    const [givenUp] = await queue(diedTwice, [
      { body: 'duas vezes', attempts: 2, uncertainAttempts: 1, leaseInMs: -1_000 },
      { body: 'depois dela' },
    ]);
    await queue(leased, [{ body: 'em voo', attempts: 1, leaseInMs: 60_000 }, { body: 'atrás' }]);
    await start();
    await allSent(died);
    expect((await rows(died))[0]).to.include({ attempts: 2, uncertain_attempts: 1, claimed_until: null });
    await eventually(async () => {
      expect((await rows(diedTwice)).map((row) => row.status)).to.deep.equal(['failed', 'sent']);
    }, 10_000, 20);
    const [failed] = await rows(diedTwice);
    expect(failed).to.include({ id: givenUp, attempts: 2, uncertain_attempts: 2, claimed_until: null, last_error: UNCERTAIN_FAILURE_REASON });
    expect(texts(diedTwice)).to.deep.equal(['depois dela']);
    // Another worker holds a live lease: neither that reply nor the one behind it goes.
    expect(texts(leased)).to.deep.equal([]);
    expect((await rows(leased)).map((row) => [row.status, row.attempts])).to.deep.equal([
      ['pending', 1],
      ['pending', 0],
    ]);
  });

  it('never sends a cancelled reply, and a cancelled reply holds nothing back', async () => {
    const who = contact();
    const onlyCancelled = contact();
    await queue(who, [{ body: 'cancelada', status: 'cancelled' }, { body: 'vai' }]);
    await queue(onlyCancelled, [{ body: 'nunca', status: 'cancelled' }]);
    await start();
    await eventually(async () => {
      expect((await rows(who)).map((row) => row.status)).to.deep.equal(['cancelled', 'sent']);
    }, 5_000, 20);
    expect(texts(who)).to.deep.equal(['vai']);
    expect(texts(onlyCancelled)).to.deep.equal([]);
    expect((await rows(who)).map((row) => row.status)).to.deep.equal(['cancelled', 'sent']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await rows(onlyCancelled))[0]).to.include({ status: 'cancelled', attempts: 0 });
  });

  it('sends a reply the retry route put back in line, woken by its NOTIFY', async () => {
    const who = contact();
    const [id] = await queue(who, [
      { body: 'de novo', status: 'failed', attempts: MAX_DELIVERY_ATTEMPTS, uncertainAttempts: 2, lastError: UNCERTAIN_FAILURE_REASON },
    ]);
    await start();
    // The stage is idle now (nothing pending), sleeping for its minute-long poll.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(texts(who)).to.deep.equal([]);
    const answer = await service.admin('POST', `/api/deliveries/${id}/retry`);
    expect(answer).to.deep.equal({ status: 200, body: { id, status: 'pending' } });
    await gosac.waitForMessages(pathOf(who), 1, 2_000);
    await allSent(who);
    expect((await rows(who))[0]).to.include({ attempts: 1, uncertain_attempts: 0, claimed_until: null, last_error: null });
  });

  it('sends a reply committed after it started when poked', async () => {
    const stage = await start();
    const who = contact();
    await queue(who, [{ body: 'cutucada' }]);
    stage.poke();
    await allSent(who, 1_000);
  });

  it('on stop, waits out the grace time, aborts the call in flight and records it as an unknown outcome', async () => {
    const who = contact();
    await queue(who, [{ body: 'interrompida' }]);
    gosac.delayResponses(5_000);
    const stage = await start({}, 10_000);
    await eventually(async () => {
      expect(gosac.concurrent).to.equal(1);
    }, 2_000, 10);
    const stopping = Date.now();
    await stage.stop(200);
    const took = Date.now() - stopping;
    // The grace time, then at most a second for the aborted call's outcome to be written.
    expect(took).to.be.within(190, 2_500);
    expect(stage.running()).to.equal(false);
    const [row] = await rows(who);
    expect(row).to.include({ status: 'pending', attempts: 1, uncertain_attempts: 1, claimed_until: null });
    expect(row!.last_error).to.match(/abort/i);
    expect(delivered(who)).to.deep.equal([]);
  });

  it('on stop, lets a call that finishes within the grace time record its outcome', async () => {
    const who = contact();
    await queue(who, [{ body: 'a tempo' }]);
    gosac.delayResponses(200);
    const stage = await start();
    await eventually(async () => {
      expect(gosac.concurrent).to.equal(1);
    }, 2_000, 10);
    await stage.stop(2_000);
    expect((await rows(who))[0]).to.include({ status: 'sent', attempts: 1, uncertain_attempts: 0 });
  });

  it('on stop while a claim is being started, hands back the replies not sent yet, untried', async () => {
    const everyone = [contact(), contact(), contact(), contact(), contact()];
    for (const who of everyone) await queue(who, [{ body: `para ${who}` }]);
    let calls = 0;
    let stopped: Promise<void> | undefined;
    const stage: SendStage = createSendStage({
      db: db(),
      logger,
      listener,
      gosac: {
        live: true,
        send: () => {
          calls += 1;
          // The second call of the claim stops the stage: the three after it must not go out.
          if (calls === 2) stopped = stage.stop(2_000);
          return Promise.resolve({ ok: true, dryRun: false });
        },
      },
      options: { leaseMs: 10_000, idlePollMs: IDLE_POLL_MS, concurrency: 256 },
    });
    stages.push(stage);
    await stage.start();
    await eventually(async () => {
      expect(stopped).to.not.equal(undefined);
    }, 2_000, 10);
    await stopped;
    expect(calls).to.equal(2);
    const firstRows = await Promise.all(everyone.map(async (who) => (await rows(who))[0]!));
    expect(firstRows.filter((row) => row.status === 'sent')).to.have.length(2);
    const handedBack = firstRows.filter((row) => row.status === 'pending');
    expect(handedBack).to.have.length(3);
    for (const row of handedBack) expect(row).to.include({ attempts: 0, claimed_until: null });
  });

  /** A reply leased as a step batch's write leases it (ADR 0013): attempts 1, the lease as PostgreSQL prints it. */
  async function leasedAsStepWrote(who: number, body: string): Promise<ClaimedReply> {
    const [id] = await queue(who, [{ body, attempts: 1, leaseInMs: 10_000 }]);
    const [row] = await db()('message_history').where({ id }).select(db().raw('claimed_until::text AS lease'));
    return { kind: 'send', id: id!, contactId: who, conversationId: null, ticketId: who + 500, body, attempts: 1, uncertainAttempts: 0, claimedUntil: row.lease };
  }

  it('starts the replies a step batch leased itself, with no claim, and records them', async () => {
    const stage = await start();
    const who = contact();
    const reservation = stage.reserve(10);
    expect(reservation.slots).to.equal(10);
    const reply = await leasedAsStepWrote(who, 'sem fila');
    // A leased reply is not the claim's: a poke alone does not send it.
    stage.poke();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(texts(who)).to.deep.equal([]);
    reservation.start([reply]);
    await allSent(who, 2_000);
    expect(texts(who)).to.deep.equal(['sem fila']);
    expect((await rows(who)).map((row) => [row.status, row.attempts, row.claimed_until])).to.deep.equal([['sent', 1, null]]);
  });

  /** Resolves once no claim holds any of the stage's `concurrency` slots (the first claim runs as it starts). */
  async function untilIdle(stage: SendStage, concurrency: number): Promise<void> {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const probe = stage.reserve(concurrency);
      probe.start([]);
      if (probe.slots === concurrency) return;
      if (Date.now() > deadline) throw new Error(`the send stage never had its ${concurrency} slots free`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('does not reserve the slots a claim in flight may fill', async () => {
    // start() returns with the first claim sent to the database, not yet answered.
    const stage = await start({ concurrency: 2 });
    const during = stage.reserve(5);
    expect(during.slots, 'both slots are the first claim\'s until it answers').to.equal(0);
    during.start([]);
    await untilIdle(stage, 2);
    expect(stage.reserve(5).slots, 'the claim answered: both free again').to.equal(2);
  });

  it('keeps reserved slots from the claim until the batch gives them back', async () => {
    const stage = await start({ concurrency: 2 });
    await untilIdle(stage, 2);
    expect(stage.reserve(5).slots, 'at most the free slots').to.equal(2);
    const full = stage.reserve(5);
    expect(full.slots).to.equal(0);
    full.start([]);
    // The stage's two slots are reserved (above): a queued reply waits, though poked.
    const waiting = contact();
    await queue(waiting, [{ body: 'espera' }]);
    stage.poke();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(texts(waiting)).to.deep.equal([]);
    expect(() => full.start([]), 'started twice').to.throw(/already started/);
  });

  it('claims again as soon as a batch gives back reserved slots it did not fill', async () => {
    const stage = await start({ concurrency: 1 });
    await untilIdle(stage, 1);
    const reservation = stage.reserve(1);
    expect(reservation.slots).to.equal(1);
    const waiting = contact();
    await queue(waiting, [{ body: 'devolvida' }]);
    stage.poke();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(texts(waiting)).to.deep.equal([]);
    reservation.start([]);
    // The idle poll is a minute: only the returned slot can have woken the claim.
    await allSent(waiting, 2_000);
  });

  it('hands back, untried, leased replies that reach a stopped stage', async () => {
    const stage = await start();
    const who = contact();
    const reservation = stage.reserve(1);
    const reply = await leasedAsStepWrote(who, 'tarde demais');
    await stage.stop(0);
    expect(stage.reserve(1).slots, 'a stopped stage reserves nothing').to.equal(0);
    reservation.start([reply]);
    await eventually(async () => {
      expect((await rows(who)).map((row) => [row.status, row.attempts, row.claimed_until])).to.deep.equal([['pending', 0, null]]);
    }, 2_000, 20);
    expect(texts(who)).to.deep.equal([]);
  });
});
