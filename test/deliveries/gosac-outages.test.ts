// GOSAC misbehaving while the service runs (whole service in process, fake GOSAC on 127.0.0.1):
// every reply reaches GOSAC once, in order, after 5xx runs, 429 with Retry-After, timeouts and a
// GOSAC that is not listening at all; a 4xx is given up after one attempt without holding the
// contact's later replies, and an admin can send it again.
import { expect } from 'chai';
import { startFakeGosac, type FakeGosac, type RecordedRequest } from '../support/fake-gosac.js';
import { insertFlow } from '../support/flow-builder.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';

const CHAIN = ['Olá!', 'Temos três opções.', 'Escolha 1 para falar conosco.'];
const GOSAC_TIMEOUT_MS = 500;

describe('GOSAC outages', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let gosacPort: number;
  /** Every fake GOSAC this suite ran on the one port (one is stopped and started again). */
  const servers: FakeGosac[] = [];
  let service: TestService;
  let nextContact = 61_000;

  before(async () => {
    gosac = await startFakeGosac();
    servers.push(gosac);
    gosacPort = Number(new URL(gosac.url).port);
    service = await startTestService({
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION outage-key',
      GOSAC_TIMEOUT_MS: String(GOSAC_TIMEOUT_MS),
    });
    await insertFlow(service.testDb.db, [
      {
        name: 'Início',
        messages: [
          { text: CHAIN[0]!, waitForResponse: false },
          { text: CHAIN[1]!, waitForResponse: false },
          { text: CHAIN[2]! },
        ],
      },
      { name: 'Um', keywords: ['1'], messages: [{ text: 'Você escolheu um.' }] },
    ]);
  });
  beforeEach(() => gosac.reset());
  after(async () => {
    await service?.stop();
    for (const server of servers) await server.stop();
    await service?.testDb.drop();
  });

  const contact = () => {
    nextContact += 1;
    return { contactId: nextContact, ticketId: nextContact + 500 };
  };
  const all = (ticketId: number) => servers.flatMap((server) => server.attemptsTo(`/messages/${ticketId}`));
  const delivered = (ticketId: number) => all(ticketId).filter((request) => request.status < 300);
  const texts = (requests: RecordedRequest[]) => requests.map((request) => request.body.body as string);
  const outbound = (contactId: number) =>
    service.testDb.db('message_history')
      .where({ contact_id: contactId, direction: 'outbound' })
      .orderBy('id')
      .select('id', 'body', 'status', 'attempts', 'uncertain_attempts', 'last_error');

  it('holds the line through several 5xx answers, then delivers each reply once, in order', async () => {
    const who = contact();
    gosac.failNext(3, 503);
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 20_000);
    await settle();
    expect(texts(delivered(who.ticketId))).to.deep.equal(CHAIN);
    // The three failures all hit the first reply; the others waited behind it.
    expect(texts(all(who.ticketId))).to.deep.equal([CHAIN[0], CHAIN[0], CHAIN[0], ...CHAIN]);
    const attempts = all(who.ticketId).map((request) => request.receivedAt);
    // Exponential backoff: about 1 s, 2 s, 4 s between attempts (±20 % jitter).
    expect(attempts[1]! - attempts[0]!).to.be.within(750, 1_500);
    expect(attempts[2]! - attempts[1]!).to.be.within(1_550, 2_700);
    expect(attempts[3]! - attempts[2]!).to.be.within(3_150, 5_200);
    expect((await outbound(who.contactId)).map((row) => [row.status, row.attempts])).to.deep.equal([
      ['sent', 4],
      ['sent', 1],
      ['sent', 1],
    ]);
  });

  it('waits at least Retry-After after a 429', async () => {
    const who = contact();
    gosac.failNext(1, 429, { retryAfter: '2' });
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 15_000);
    const [refused, accepted] = all(who.ticketId);
    expect(refused!.status).to.equal(429);
    expect(accepted!.receivedAt - refused!.receivedAt).to.be.at.least(2_000);
    expect(texts(delivered(who.ticketId))).to.deep.equal(CHAIN);
  });

  it('retries a request that timed out once', async () => {
    const who = contact();
    // An answer that comes after the client gave up: GOSAC may or may not have taken it.
    gosac.failNext(1, 503, { delayMs: GOSAC_TIMEOUT_MS * 3 });
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 20_000);
    await settle();
    expect(texts(delivered(who.ticketId))).to.deep.equal(CHAIN);
    const [first] = await outbound(who.contactId);
    expect(first).to.include({ status: 'sent', attempts: 2, uncertain_attempts: 1 });
  });

  it('gives a reply up after its second timeout (at most one extra copy), and the line moves on', async () => {
    const who = contact();
    gosac.failNext(2, 503, { delayMs: GOSAC_TIMEOUT_MS * 3 });
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 2, 20_000);
    await settle();
    // Every call that reached GOSAC, answered or not: the reply went twice, never a third time.
    expect(texts(servers.flatMap((server) => server.arrivalsTo(`/messages/${who.ticketId}`)))).to.deep.equal([CHAIN[0], CHAIN[0], CHAIN[1], CHAIN[2]]);
    const rows = await outbound(who.contactId);
    expect(rows.map((row) => [row.status, row.attempts, row.uncertain_attempts])).to.deep.equal([
      ['failed', 2, 2],
      ['sent', 1, 0],
      ['sent', 1, 0],
    ]);
    expect(rows[0].last_error).to.match(/GOSAC may have received it/);
  });

  it('retries while GOSAC refuses connections, and delivers once it listens again on the same port', async () => {
    const who = contact();
    await gosac.stop();
    await service.webhook(textMessage(who, 'oi'));
    await eventually(async () => {
      const [first] = await outbound(who.contactId);
      expect(first?.attempts ?? 0).to.be.at.least(2);
      expect(first!.last_error).to.match(/ECONNREFUSED/);
    }, 15_000);
    gosac = await startFakeGosac({ port: gosacPort });
    servers.push(gosac);
    expect((gosac as { url: string }).url).to.equal(`http://127.0.0.1:${gosacPort}`);
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 20_000);
    await settle();
    expect(texts(delivered(who.ticketId))).to.deep.equal(CHAIN);
  });

  it('gives up a 4xx after one attempt, sends the later replies, and re-sends it on request', async () => {
    const who = contact();
    gosac.failNext(1, 400, { body: '{"error":"invalid ticket"}' });
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 2, 15_000);
    await service.webhook(textMessage(who, '1'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 15_000);
    await settle(1_500);
    // One attempt for the refused reply: no retry storm.
    expect(texts(all(who.ticketId))).to.deep.equal([CHAIN[0], CHAIN[1], CHAIN[2], 'Você escolheu um.']);
    const rows = await outbound(who.contactId);
    expect(rows.map((row) => [row.status, row.attempts])).to.deep.equal([
      ['failed', 1],
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);

    const failed = await service.admin('GET', `/api/deliveries?status=failed&contact_id=${who.contactId}`);
    expect(failed.status).to.equal(200);
    expect(failed.body).to.have.length(1);
    expect(failed.body[0]).to.include({ id: rows[0]!.id, body: CHAIN[0], status: 'failed', attempts: 1 });
    expect(failed.body[0].last_error).to.match(/400/);

    const retried = await service.admin('POST', `/api/deliveries/${rows[0]!.id}/retry`);
    expect(retried).to.deep.equal({ status: 200, body: { id: rows[0]!.id, status: 'pending' } });
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 4, 15_000);
    await settle();
    expect(texts(delivered(who.ticketId))).to.deep.equal([CHAIN[1], CHAIN[2], 'Você escolheu um.', CHAIN[0]]);
    expect((await outbound(who.contactId))[0]).to.include({ status: 'sent', attempts: 1 });
    const logged = await service.testDb.db('activity_logs').where({ action: 'delivery.retried', contact_id: who.contactId });
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({ actor: 'admin' });
  });
});

/** Lets a worker that would wrongly send again do so before the test counts. */
function settle(ms = 500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


