import { expect } from 'chai';
import { createGosacClient, parseRetryAfter, type GosacClientOptions } from '../../src/integrations/gosac-client.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';

const KEY = 'INTEGRATION abc-123';

describe('GOSAC client', () => {
  let gosac: FakeGosac;
  const logger = createLogger('silent');
  const options = (overrides: Partial<GosacClientOptions> = {}): GosacClientOptions => ({
    baseUrl: gosac.url,
    authorizationKey: KEY,
    integration: 'flowbot',
    sendMode: 'ticket',
    timeoutMs: 2_000,
    production: false,
    logger,
    maxSockets: 8,
    ...overrides,
  });

  before(async () => {
    gosac = await startFakeGosac();
  });
  afterEach(() => gosac.reset());
  after(() => gosac.stop());

  it('posts to /messages/{ticketId} with the exact headers in ticket mode', async () => {
    const client = createGosacClient(options());
    expect(client.live).to.equal(true);
    expect(await client.send({ ticketId: 90211, contactId: 51001, text: 'Olá, Maria!' })).to.deep.equal({
      ok: true,
      dryRun: false,
    });
    const [request] = gosac.requests;
    expect(request).to.include({ method: 'POST', path: '/messages/90211' });
    expect(request!.body).to.deep.equal({ body: 'Olá, Maria!' });
    expect(request!.headers['authorization']).to.equal(KEY);
    expect(request!.headers['integration']).to.equal('flowbot');
    expect(request!.headers['content-type']).to.equal('application/json');
  });

  it('posts to /send-message in contact mode, without INTEGRATION when unset', async () => {
    const client = createGosacClient(options({ sendMode: 'contact', integration: undefined, baseUrl: `${gosac.url}/` }));
    expect((await client.send({ ticketId: 90211, contactId: 51001, text: 'oi' })).ok).to.equal(true);
    const [request] = gosac.requests;
    expect(request).to.include({ path: '/send-message' });
    expect(request!.body).to.deep.equal({ contact_id: 51001, message: 'oi' });
    expect(request!.headers).to.not.have.property('integration');
    expect(request!.headers['authorization']).to.equal(KEY);
  });

  it('falls back to /send-message when a ticket-mode reply has no ticket', async () => {
    const client = createGosacClient(options());
    await client.send({ ticketId: null, contactId: 7, text: 'x' });
    expect(gosac.requests[0]).to.include({ path: '/send-message' });
  });

  for (const status of [500, 502, 503, 408, 429]) {
    it(`classifies ${status} as retryable, without retrying by itself`, async () => {
      gosac.failNext(1, status);
      const outcome = await createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' });
      expect(outcome).to.include({ ok: false, retryable: true });
      expect(gosac.requests).to.have.length(1);
    });
  }

  for (const status of [400, 401, 403, 404, 422]) {
    it(`classifies ${status} as permanent`, async () => {
      gosac.failNext(1, status, { body: '{"error":"nope"}' });
      const outcome = await createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' });
      expect(outcome).to.include({ ok: false, retryable: false });
      if (!outcome.ok) expect(outcome.error).to.match(new RegExp(`${status}.*nope`));
      expect(gosac.requests).to.have.length(1);
    });
  }

  it('honours Retry-After in seconds on 429', async () => {
    gosac.failNext(1, 429, { retryAfter: '7' });
    const outcome = await createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' });
    expect(outcome).to.deep.include({ ok: false, retryable: true, retryAfterMs: 7_000 });
  });

  it('reads Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
  });

  it('treats a timeout as retryable and uncertain (GOSAC may have the request)', async () => {
    gosac.delayResponses(500);
    const outcome = await createGosacClient(options({ timeoutMs: 100 })).send({ ticketId: 1, contactId: 2, text: 'x' });
    expect(outcome).to.include({ ok: false, retryable: true, uncertain: true });
  });

  it('treats a connection dropped after the request went out as retryable and uncertain', async () => {
    gosac.failNext(1, 0, { reset: true });
    const outcome = await createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' });
    expect(outcome).to.include({ ok: false, retryable: true, uncertain: true });
    if (!outcome.ok) expect(outcome.error).to.match(/ECONNRESET|socket hang up/);
    expect(gosac.arrivalsTo('/messages/1')).to.have.length(1);
  });

  it('treats a call aborted after the request went out as uncertain', async () => {
    gosac.delayResponses(2_000);
    const controller = new AbortController();
    const sending = createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' }, { signal: controller.signal });
    while (gosac.concurrent === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await sending).to.include({ ok: false, retryable: true, uncertain: true });
  });

  it('treats a refused connection as retryable and certain (nothing was sent)', async () => {
    const outcome = await createGosacClient(options({ baseUrl: 'http://127.0.0.1:1' })).send({
      ticketId: 1,
      contactId: 2,
      text: 'x',
    });
    expect(outcome).to.include({ ok: false, retryable: true, uncertain: false });
  });

  it('treats an answered failure as certain', async () => {
    gosac.failNext(1, 503);
    const outcome = await createGosacClient(options()).send({ ticketId: 1, contactId: 2, text: 'x' });
    expect(outcome).to.include({ ok: false, retryable: true });
    expect(outcome).to.not.include({ uncertain: true });
  });

  it('sends through its own kept-alive connection pool, at most maxSockets at once', async () => {
    gosac.delayResponses(100);
    const client = createGosacClient(options({ maxSockets: 2 }));
    const outcomes = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((text) => client.send({ ticketId: 1, contactId: 2, text })));
    expect(outcomes.every((outcome) => outcome.ok)).to.equal(true);
    expect(gosac.maxConcurrent()).to.equal(2);
    expect(gosac.requests.map((request) => request.headers['connection'])).to.include('keep-alive');
  });

  it('runs dry without a key outside production, and sends nothing', async () => {
    const client = createGosacClient(options({ authorizationKey: undefined }));
    expect(client.live).to.equal(false);
    expect(await client.send({ ticketId: 1, contactId: 2, text: 'x' })).to.deep.equal({ ok: true, dryRun: true });
    expect(gosac.requests).to.have.length(0);
  });

  it('refuses (permanently) to pretend in production without a key', async () => {
    const client = createGosacClient(options({ authorizationKey: undefined, production: true }));
    expect(await client.send({ ticketId: 1, contactId: 2, text: 'x' })).to.include({ ok: false, retryable: false });
  });

  // Read through the service's own logger (its redaction included) at trace, so every line the
  // sending code path writes is captured; an empty capture would prove nothing.
  it('never writes the key to the log, while logging its calls', async () => {
    const lines: string[] = [];
    const capturing = createLogger('trace', 'flow-bot', { destination: { write: (line: string) => lines.push(line) } });
    gosac.failNext(1, 500);
    const client = createGosacClient(options({ logger: capturing }));
    await client.send({ ticketId: 1, contactId: 2, text: 'x' });
    await client.send({ ticketId: null, contactId: 2, text: 'y' });
    await createGosacClient(options({ logger: capturing, baseUrl: 'http://127.0.0.1:1' })).send({ ticketId: 3, contactId: 2, text: 'z' });
    await createGosacClient(options({ logger: capturing, authorizationKey: undefined })).send({ ticketId: null, contactId: 2, text: 'w' });
    expect(gosac.requests.map((request) => request.headers['authorization'])).to.deep.equal([KEY, KEY]);
    const messages = lines.map((line) => JSON.parse(line).msg as string);
    expect(messages.filter((msg) => msg === 'calling GOSAC')).to.have.length(3);
    expect(messages.filter((msg) => msg === 'GOSAC answered')).to.have.length(2);
    expect(messages).to.include.members(['GOSAC call failed', 'reply has no ticket id; sending through /send-message', 'dry run: reply not sent']);
    const everything = lines.join('\n');
    expect(everything).to.include('[redacted]');
    expect(everything).to.not.include('abc-123');
  });
});
