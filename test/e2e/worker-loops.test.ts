// The whole service (webhook → step engine → send stage) against the fake GOSAC.
import { expect } from 'chai';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { insertFlow, insertInbound } from '../support/flow-builder.js';
import { createTestDatabase } from '../support/test-database.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';

describe('worker: processing and delivery', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;
  let nextContact = 30_000;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION worker-key' });
    await insertFlow(service.testDb.db, [
      {
        name: 'Início',
        keywords: ['menu'],
        messages: [
          { text: 'Olá, {{contact_name}}!', waitForResponse: false },
          { text: 'Carregando...', waitForResponse: false, delaySeconds: 1 },
          { text: 'Escolha: 1 ou 2', delaySeconds: 1 },
        ],
      },
      { name: 'Um', keywords: ['1'], messages: [{ text: 'Você escolheu um.' }] },
    ]);
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  const contact = () => {
    nextContact += 1;
    return { contactId: nextContact, ticketId: nextContact + 100, name: 'Joana' };
  };

  it('greets by name and delivers the chain in order, each after its delay', async () => {
    const who = contact();
    const before = Date.now();
    expect((await service.webhook(textMessage(who, 'oi'))).body).to.deep.equal({ status: 'queued' });
    const sent = await gosac.waitForMessages(`/messages/${who.ticketId}`, 3);
    expect(sent.map((request) => request.body.body)).to.deep.equal(['Olá, Joana!', 'Carregando...', 'Escolha: 1 ou 2']);
    expect(sent[0]!.headers['authorization']).to.equal('INTEGRATION worker-key');
    expect(sent[0]!.receivedAt - before).to.be.below(900);
    expect(sent[1]!.receivedAt - sent[0]!.receivedAt).to.be.within(900, 1_800);
    expect(sent[2]!.receivedAt - sent[1]!.receivedAt).to.be.within(900, 1_800);
    await eventually(async () => {
      const statuses = await service.testDb.db('message_history')
        .where({ contact_id: who.contactId, direction: 'outbound' })
        .pluck('status');
      expect(statuses).to.deep.equal(['sent', 'sent', 'sent']);
    });
  });

  it('retries a GOSAC failure and delivers every reply once, in order', async () => {
    const who = contact();
    gosac.failNext(2, 503);
    await service.webhook(textMessage(who, 'oi'));
    const sent = await gosac.waitForMessages(`/messages/${who.ticketId}`, 3, 20_000);
    expect(sent.map((request) => request.body.body)).to.deep.equal(['Olá, Joana!', 'Carregando...', 'Escolha: 1 ou 2']);
    expect(gosac.attemptsTo(`/messages/${who.ticketId}`)).to.have.length(5);
    // The first went out late (after two retries); the chain after it keeps its delays.
    expect(sent[1]!.receivedAt - sent[0]!.receivedAt).to.be.at.least(900);
    expect(sent[2]!.receivedAt - sent[1]!.receivedAt).to.be.at.least(900);
    const [first] = await service.testDb.db('message_history')
      .where({ contact_id: who.contactId, direction: 'outbound' })
      .orderBy('id');
    expect(first).to.include({ status: 'sent', attempts: 3 });
  });

  it('answers input that arrives during a delayed chain at once; the rest of the chain is superseded', async () => {
    const who = contact();
    await service.webhook(textMessage(who, 'oi'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 1);
    const sentAt = Date.now();
    await service.webhook(textMessage(who, '1'));
    const sent = await gosac.waitForMessages(`/messages/${who.ticketId}`, 2);
    expect(sent.map((request) => request.body.body)).to.deep.equal(['Olá, Joana!', 'Você escolheu um.']);
    // Not held behind the chain's delays (1 s and 1 s more).
    expect(sent[1]!.receivedAt - sentAt).to.be.below(900);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(gosac.requestsTo(`/messages/${who.ticketId}`)).to.have.length(2);
    const statuses = await service.testDb.db('message_history')
      .where({ contact_id: who.contactId, direction: 'outbound' })
      .orderBy('id')
      .pluck('status');
    expect(statuses).to.deep.equal(['sent', 'cancelled', 'cancelled', 'sent']);
  });

  it('never lets a reply delayed by a day hold back a keyword', async () => {
    const who = contact();
    // A reply of an earlier step, due tomorrow (a message with delay_seconds 86400).
    const [row] = await service.testDb.db('message_history').insert({
      contact_id: who.contactId, ticket_id: who.ticketId, direction: 'outbound', body: 'Amanhã!', status: 'pending',
      due_at: new Date(Date.now() + 86_400_000),
    }).returning('id');
    await service.webhook(textMessage(who, 'menu'));
    const sent = await gosac.waitForMessages(`/messages/${who.ticketId}`, 1, 5_000);
    expect(sent[0]!.body.body).to.equal('Olá, Joana!');
    const [delayed] = await service.testDb.db('message_history').where({ id: row.id });
    expect(delayed).to.include({ status: 'cancelled', last_error: 'superseded by a newer input' });
  });
});

describe('worker: debounce and recovery', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService | undefined;

  beforeEach(async () => {
    gosac = await startFakeGosac();
  });
  afterEach(async () => {
    await service?.stop();
    await gosac.stop();
    await service?.testDb.drop();
    service = undefined;
  });

  it('answers a burst once, after the contact has been quiet for DEBOUNCE_TIME', async () => {
    service = await startTestService({
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION k',
      DEBOUNCE_TIME: '600',
    });
    await insertFlow(service.testDb.db, [
      { name: 'Nome', messages: [{ text: 'Bem-vindo!', waitForResponse: false }, { text: 'Seu nome?', saveResponseAs: 'nome' }, { text: 'Oi, {{nome}}.', waitForResponse: false }] },
    ]);
    const who = { contactId: 40_001, ticketId: 40_101 };
    await service.webhook(textMessage(who, 'olá'));
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 2);
    for (const part of ['Ana', 'Paula']) {
      await service.webhook(textMessage(who, part));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const sent = await gosac.waitForMessages(`/messages/${who.ticketId}`, 3);
    expect(sent[2]!.body.body).to.equal('Oi, Ana\nPaula.');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(gosac.requestsTo(`/messages/${who.ticketId}`)).to.have.length(3);
    const inbound = await service.testDb.db('message_history')
      .where({ contact_id: who.contactId, direction: 'inbound' })
      .orderBy('id')
      .select('body', 'status');
    expect(inbound).to.deep.equal([
      { body: 'olá', status: 'processed' },
      { body: 'Ana', status: 'processed' },
      { body: 'Paula', status: 'processed' },
    ]);
  });

  it('picks up inbox and outbox rows a killed worker left behind, at start', async () => {
    const testDb = await createTestDatabase();
    await insertFlow(testDb.db, [{ name: 'Só', messages: [{ text: 'Recuperado, {{contact_name}}.' }] }]);
    await insertInbound(testDb.db, { contactId: 50_001, ticketId: 50_101, body: 'oi', name: 'Rita' });
    await testDb.db('message_history').insert({
      contact_id: 50_002,
      ticket_id: 50_102,
      direction: 'outbound',
      body: 'pendente',
      status: 'pending',
      due_at: new Date(Date.now() - 60_000),
    });
    await testDb.db('message_history').update({ created_at: new Date(Date.now() - 60_000) });

    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION k' }, testDb);
    const [answer] = await gosac.waitForMessages('/messages/50101', 1);
    expect(answer!.body.body).to.equal('Recuperado, Rita.');
    const [pending] = await gosac.waitForMessages('/messages/50102', 1);
    expect(pending!.body.body).to.equal('pendente');
  });
});

