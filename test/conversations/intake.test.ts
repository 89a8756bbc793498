// SPEC §3 over the real HTTP route (the real Koa app, no worker): every rule's exact answer, what
// is stored, and the debounce job queued in the same transaction.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createIntakeService } from '../../src/conversations/intake-service.js';
import { createHttpApp } from '../../src/http/app.js';
import { createWebhookRouter } from '../../src/http/routes/webhook-routes.js';
import { buildTestDeps } from '../support/test-deps.js';
import type { TestDatabase } from '../support/test-database.js';
import { fixture } from '../support/webhook-payloads.js';

interface Harness {
  deps: CoreDeps & { testDb: TestDatabase };
  post(body: unknown, options?: { query?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const deps = await buildTestDeps(env);
  const app = createHttpApp(deps, [createWebhookRouter({ ...deps, intake: createIntakeService(deps) })]);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    deps,
    async post(body, options = {}) {
      const response = await fetch(`${url}/webhook${options.query ?? ''}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await deps.testDb.drop();
    },
  };
}

let uniqueId = 0;
function withFreshId(payload: any): any {
  uniqueId += 1;
  payload.data.id = `INTAKE-${Date.now()}-${uniqueId}`;
  return payload;
}

describe('webhook intake (SPEC §3)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ DEBOUNCE_TIME: '2000' });
  });
  after(() => harness.close());

  const inbound = () => harness.deps.db('message_history').where({ direction: 'inbound' }).orderBy('id');

  const skipped: Array<[string, string]> = [
    ['not-a-message', 'ignored - not message created'],
    // SPEC §10: a fromMe text the bot never sent on that ticket is a human agent's reply.
    ['from-me', 'ignored - agent replied'],
    ['from-group', 'ignored - from group'],
    ['image', 'ignored - media type image'],
    ['assigned-to-agent', 'ignored - ticket assigned to agent'],
  ];
  for (const [name, status] of skipped) {
    it(`answers ${name}.json with 200 "${status}" and stores nothing`, async () => {
      const before = (await inbound()).length;
      const response = await harness.post(withFreshId(fixture(name)));
      expect(response).to.deep.equal({ status: 200, body: { status } });
      expect(await inbound()).to.have.length(before);
    });
  }

  it('stores text.json as received and queues the contact with the debounce delay', async () => {
    const payload = fixture('text');
    const response = await harness.post(payload);
    expect(response).to.deep.equal({ status: 200, body: { status: 'queued' } });
    const rows = await harness.deps.db('message_history').where({ gosac_message_id: payload.data.id });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({
      direction: 'inbound',
      status: 'received',
      contact_id: 51001,
      ticket_id: 90211,
      body: 'Oi, boa tarde!',
      media_type: 'text',
      contact_name: 'Maria Souza',
      contact_number: '5511987650000',
    });
    // Due once the contact has been quiet for DEBOUNCE_TIME (2 s by default).
    const due = await harness.deps.db.raw(
      'SELECT extract(epoch from due_at - created_at) AS seconds FROM message_history WHERE gosac_message_id = ?',
      [payload.data.id],
    );
    expect(Number(due.rows[0].seconds)).to.be.within(1.99, 2.01);
  });

  it('answers a seen message id with "duplicate" and keeps one row', async () => {
    const payload = fixture('text');
    const response = await harness.post(payload);
    expect(response).to.deep.equal({ status: 200, body: { status: 'duplicate' } });
    expect(await harness.deps.db('message_history').where({ gosac_message_id: payload.data.id })).to.have.length(1);
  });

  it('treats mediaType "chat" as text', async () => {
    const payload = fixture('text-as-chat');
    expect(await harness.post(payload)).to.deep.equal({ status: 200, body: { status: 'queued' } });
    const [row] = await harness.deps.db('message_history').where({ gosac_message_id: payload.data.id });
    expect(row).to.include({ media_type: 'text', body: '1' });
  });

  it('stores a file with its caption, url and path', async () => {
    const payload = fixture('file-pdf');
    expect(await harness.post(payload)).to.deep.equal({ status: 200, body: { status: 'queued' } });
    const [row] = await harness.deps.db('message_history').where({ gosac_message_id: payload.data.id });
    expect(row).to.include({
      media_type: 'application',
      body: 'projeto-cozinha.pdf',
      media_path: 'projeto-cozinha-1732456931.pdf',
      media_url: 'https://tenant.example/api/public/media/projeto-cozinha-1732456931.pdf',
    });
  });

  it('makes a burst due only after its newest message\'s debounce window', async () => {
    for (const text of ['a', 'b', 'c']) {
      const payload = withFreshId(fixture('text'));
      payload.data.contactId = 61001;
      payload.data.body = text;
      expect((await harness.post(payload)).body).to.deep.equal({ status: 'queued' });
    }
    const rows = await harness.deps.db('message_history').where({ contact_id: 61001 }).orderBy('id');
    expect(rows.map((row) => row.body)).to.deep.equal(['a', 'b', 'c']);
    // Each row's due time is its arrival + the window: the last one decides when the contact is due.
    const dues = rows.map((row) => new Date(row.due_at).getTime());
    expect(dues[2]).to.be.at.least(dues[0]!);
  });

  it('accepts numeric strings for ids and nulls for optional fields', async () => {
    const payload = withFreshId(fixture('text'));
    payload.data.contactId = '61002';
    payload.data.ticketId = null;
    payload.data.ticket = null;
    payload.data.contact = null;
    payload.data.mediaUrl = null;
    expect(await harness.post(payload)).to.deep.equal({ status: 200, body: { status: 'queued' } });
    const [row] = await harness.deps.db('message_history').where({ gosac_message_id: payload.data.id });
    expect(row).to.include({ contact_id: 61002, ticket_id: null, contact_name: null });
  });

  const malformed: Array<[string, (payload: any) => unknown]> = [
    ['no data.contactId', (payload) => delete payload.data.contactId],
    ['a null contactId', (payload) => (payload.data.contactId = null)],
    ['a non-numeric contactId', (payload) => (payload.data.contactId = 'abc')],
    ['no data.id', (payload) => delete payload.data.id],
    ['fromMe of the wrong type', (payload) => (payload.data.fromMe = 'yes')],
    ['no data at all', (payload) => delete payload.data],
  ];
  for (const [what, spoil] of malformed) {
    it(`answers 400 listing the problems for ${what}, storing nothing`, async () => {
      const before = (await inbound()).length;
      const payload = withFreshId(fixture('text'));
      spoil(payload);
      const response = await harness.post(payload);
      expect(response.status).to.equal(400);
      expect(response.body.errors).to.be.an('array');
      expect(response.body.errors.length).to.be.greaterThan(0);
      expect(await inbound()).to.have.length(before);
    });
  }

  it('names the missing field', async () => {
    const payload = withFreshId(fixture('text'));
    delete payload.data.contactId;
    const response = await harness.post(payload);
    expect(response.body.errors.join(' ')).to.match(/data\.contactId/);
  });

  it('answers 400 for malformed JSON and for a non-object body', async () => {
    expect((await harness.post('{"type": ')).status).to.equal(400);
    const array = await harness.post([1, 2]);
    expect(array.status).to.equal(400);
  });
});

describe('webhook intake settings (SPEC §3 rules 5-7)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness.close());

  const set = (key: string, value: unknown) => harness.deps.settings.update(key, { value }, 'test');

  it('answers "bot disabled" when BOT_ENABLED is off or BOT_STATUS is not active', async () => {
    await set('BOT_ENABLED', false);
    expect((await harness.post(withFreshId(fixture('text')))).body).to.deep.equal({ status: 'bot disabled' });
    await set('BOT_ENABLED', true);
    await set('BOT_STATUS', 'maintenance');
    expect((await harness.post(withFreshId(fixture('text')))).body).to.deep.equal({ status: 'bot disabled' });
    await set('BOT_STATUS', 'active');
  });

  it('answers only TEST_CONTACT_ID in test mode', async () => {
    await set('TEST_MODE', true);
    await set('TEST_CONTACT_ID', '99');
    expect((await harness.post(withFreshId(fixture('text')))).body).to.deep.equal({
      status: 'test mode - contact not allowed',
    });
    const allowed = withFreshId(fixture('text'));
    allowed.data.contactId = 99;
    expect((await harness.post(allowed)).body).to.deep.equal({ status: 'queued' });
    await set('TEST_MODE', false);
  });

  it('answers assigned tickets when BOT_SKIP_ASSIGNED_TICKETS is off', async () => {
    await set('BOT_SKIP_ASSIGNED_TICKETS', false);
    expect((await harness.post(withFreshId(fixture('assigned-to-agent')))).body).to.deep.equal({ status: 'queued' });
    await set('BOT_SKIP_ASSIGNED_TICKETS', true);
  });

  it('checks the rules in order: a group message while disabled is "from group"', async () => {
    await set('BOT_ENABLED', false);
    expect((await harness.post(withFreshId(fixture('from-group')))).body).to.deep.equal({ status: 'ignored - from group' });
    await set('BOT_ENABLED', true);
  });
});

describe('webhook secret', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ WEBHOOK_SECRET: 's3cret-token' });
  });
  after(() => harness.close());

  it('answers 401 without the token or with a wrong one, storing nothing', async () => {
    for (const options of [{}, { query: '?token=wrong' }, { headers: { 'x-webhook-token': 'nope' } }]) {
      const response = await harness.post(withFreshId(fixture('text')), options);
      expect(response).to.deep.equal({ status: 401, body: { errors: ['invalid webhook token'] } });
    }
    expect(await harness.deps.db('message_history')).to.have.length(0);
  });

  it('accepts the token as ?token= and as X-Webhook-Token', async () => {
    expect((await harness.post(withFreshId(fixture('text')), { query: '?token=s3cret-token' })).body).to.deep.equal({
      status: 'queued',
    });
    expect(
      (await harness.post(withFreshId(fixture('text')), { headers: { 'X-Webhook-Token': 's3cret-token' } })).body,
    ).to.deep.equal({ status: 'queued' });
  });
});
