// The clients behind flow actions, each against its fake on 127.0.0.1 and a real database: the
// Pontta token shared by workers (two clients = two workers), renewed before it expires; the
// contact's Drive folder created once when two workers race; Sheets; http.post; downloads.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { expect } from 'chai';
import { ActionError } from '../../src/actions/action-errors.js';
import { createFileDownloader } from '../../src/files/file-downloader.js';
import { createDiskFileStorage, FileTooLargeError } from '../../src/files/file-storage.js';
import { createGoogleClient } from '../../src/integrations/google-client.js';
import { createHttpActionClient, pickResult } from '../../src/integrations/http-action-client.js';
import { createPonttaClient, occurrenceIdFrom } from '../../src/integrations/pontta-client.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startFakeGoogle, startFakePontta, type FakeGoogle, type FakePontta } from '../support/fake-integrations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const logger = createLogger('silent');

describe('action clients (SPEC §8)', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let pontta: FakePontta;
  let google: FakeGoogle;

  before(async () => {
    testDb = await createTestDatabase();
    pontta = await startFakePontta();
    google = await startFakeGoogle();
  });
  after(async () => {
    await Promise.all([pontta.stop(), google.stop()]);
    await testDb.drop();
  });

  const ponttaClient = () =>
    createPonttaClient({
      db: testDb.db,
      logger,
      options: { authUrl: pontta.authUrl, baseUrl: pontta.baseUrl, businessUnit: pontta.businessUnit, email: pontta.email, password: pontta.password, timeoutMs: 5000 },
    });
  const googleClient = () =>
    createGoogleClient({
      db: testDb.db,
      logger,
      options: { clientEmail: google.clientEmail, privateKey: google.privateKey, tokenUri: google.tokenUri, apiRootUrl: google.url, sheetId: 'S1', driveFolderId: 'ROOT', timeoutMs: 5000 },
    });

  describe('Pontta', () => {
    it('shares one token between workers and renews it before it expires', async () => {
      await testDb.db('integration_tokens').del();
      const before = pontta.tokens.length;
      const [a, b] = [ponttaClient(), ponttaClient()];
      await Promise.all([a.createOccurrence({ title: 't1', note: '' }), b.createOccurrence({ title: 't2', note: '' })]);
      await b.createOccurrence({ title: 't3', note: '' });
      expect(pontta.tokens.length - before).to.equal(1);
      // Close to its expiry (inside the margin), the next call authenticates first.
      await testDb.db('integration_tokens').update({ expires_at: new Date(Date.now() + 30_000) });
      await a.createOccurrence({ title: 't4', note: '' });
      expect(pontta.tokens.length - before).to.equal(2);
      const stored = await testDb.db('integration_tokens').where({ service: 'pontta' }).first();
      expect(stored.token).to.equal(pontta.tokens.at(-1));
      expect(new Date(stored.expires_at).getTime()).to.be.greaterThan(Date.now() + 500_000);
    });

    it('fails without retrying on a refused login, and says Pontta is not configured when it is not', async () => {
      const wrong = createPonttaClient({ db: testDb.db, logger, options: { authUrl: pontta.authUrl, baseUrl: pontta.baseUrl, businessUnit: 'x', email: 'x@y', password: 'nope', timeoutMs: 5000 } });
      await testDb.db('integration_tokens').del();
      const error = await wrong.createOccurrence({ title: 't', note: '' }).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(ActionError).with.property('retryable', false);
      expect(String((error as Error).message)).not.to.include('nope');
      const none = createPonttaClient({ db: testDb.db, logger, options: { authUrl: undefined, baseUrl: undefined, businessUnit: undefined, email: undefined, password: undefined, timeoutMs: 1000 } });
      expect(none.configured).to.equal(false);
      const notConfigured = await none.createOccurrence({ title: 't', note: '' }).catch((caught: unknown) => caught);
      expect(notConfigured).to.be.instanceOf(ActionError).with.property('retryable', false);
      expect((notConfigured as Error).message).to.match(/Pontta is not configured/);
    });

    it('reads the occurrence id from x-pontta-params in its usual shapes', () => {
      expect(occurrenceIdFrom('981')).to.equal('981');
      expect(occurrenceIdFrom('{"id": 982}')).to.equal('982');
      expect(occurrenceIdFrom('id=983;type=OCCURRENCE')).to.equal('983');
      expect(occurrenceIdFrom(undefined)).to.equal(null);
    });
  });

  describe('Google', () => {
    it('creates the contact folder once when two workers race for it', async () => {
      const [a, b] = [googleClient(), googleClient()];
      const contact = { id: 4242, number: '5511900004242', name: 'Rita' };
      const ids = await Promise.all([a.contactFolder(undefined, contact), b.contactFolder(undefined, contact), a.contactFolder(undefined, contact)]);
      expect(new Set(ids).size).to.equal(1);
      expect(google.folders.filter((folder) => folder.name === '5511900004242 Rita')).to.deep.equal([{ id: ids[0], name: '5511900004242 Rita', parents: ['ROOT'] }]);
      expect(google.violations).to.deep.equal([]);
    });

    it('asks GOOGLE_TOKEN_URI for its token, retried by the caller while the endpoint is down', async () => {
      const client = googleClient();
      google.failNext('/token', 50, 503);
      const tokenCalls = google.requests.filter((r) => r.path === '/token').length;
      const first = await client.appendRow(['a'], undefined, undefined).catch((caught: unknown) => caught);
      expect(first).to.be.instanceOf(ActionError).with.property('retryable', true);
      expect(google.requests.filter((r) => r.path === '/token').length).to.be.greaterThan(tokenCalls);
      google.clearFaults();
      await client.appendRow(['a', '=1+1'], undefined, undefined);
      expect(google.rows.at(-1)).to.deep.equal({ spreadsheetId: 'S1', range: 'A1', values: [['a', '=1+1']] });
      expect(google.violations).to.deep.equal([]);
    });
  });

  describe('http.post', () => {
    it('posts JSON and keeps the answer or one field of it; 4xx fails, 5xx is retried', async () => {
      const seen: string[] = [];
      let status = 200;
      const server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          seen.push(`${request.headers['content-type']} ${body}`);
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ data: { id: 77 } }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      try {
        const client = createHttpActionClient({ timeoutMs: 2000 });
        expect(await client.post(url, { a: 'b' }, 'data.id')).to.equal('77');
        expect(seen[0]).to.equal('application/json {"a":"b"}');
        status = 422;
        expect(await client.post(url, {}, undefined).catch((e: ActionError) => e.retryable)).to.equal(false);
        status = 503;
        expect(await client.post(url, {}, undefined).catch((e: ActionError) => e.retryable)).to.equal(true);
        status = 429;
        expect(await client.post(url, {}, undefined).catch((e: ActionError) => e.retryable)).to.equal(true);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      expect(pickResult('{"a":{"b":[1]}}', 'a.b')).to.equal('[1]');
      expect(pickResult('not json', 'a')).to.equal('');
    });
  });

  describe('downloads', () => {
    let gosac: FakeGosac;
    let dir: string;
    before(async () => {
      gosac = await startFakeGosac();
      dir = await mkdtemp(path.join(os.tmpdir(), 'flowbot-dl-'));
    });
    after(async () => {
      await gosac.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('leaves nothing behind when the source fails before the file was even created', async () => {
      const storage = createDiskFileStorage(dir);
      const failing = () => {
        const source = new PassThrough();
        source.destroy(new FileTooLargeError(10));
        return source;
      };
      for (let attempt = 0; attempt < 20; attempt += 1) {
        expect(await storage.save(`race/${attempt}.pdf`, failing, 10).catch((e: unknown) => e)).to.be.instanceOf(FileTooLargeError);
      }
      // A writer still opening when save() gave up would create its file now.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await readdir(path.join(dir, 'race'))).to.deep.equal([]);
    });

    it('streams a file to storage with GOSAC\'s headers, and refuses one over the limit leaving nothing', async () => {
      const storage = createDiskFileStorage(dir);
      const downloader = createFileDownloader({ storage, maxBytes: 1024 * 1024, timeoutMs: 5000, gosac: { authorizationKey: 'INTEGRATION k', integration: 'flowbot' } });
      const small = gosac.serveMedia('/m/a.pdf', { body: Buffer.from('%PDF-1.4 hello'), contentType: 'application/pdf; charset=binary' });
      expect(await downloader.download(small, '1/1-a.pdf')).to.deep.equal({ size: 14, mimeType: 'application/pdf' });
      expect(gosac.mediaRequests[0]!.headers).to.include({ authorization: 'INTEGRATION k', integration: 'flowbot' });
      const announced = gosac.serveMedia('/m/big.pdf', { size: 2 * 1024 * 1024, contentType: 'application/pdf' });
      const chunked = gosac.serveMedia('/m/big2.pdf', { size: 2 * 1024 * 1024, contentType: 'application/pdf', announceLength: false });
      for (const url of [announced, chunked]) {
        expect(await downloader.download(url, '1/2-big.pdf').catch((e: unknown) => e)).to.be.instanceOf(FileTooLargeError);
      }
      expect(await readdir(path.join(dir, '1'))).to.deep.equal(['1-a.pdf']);
      // GOSAC no longer has it: a failure, not retried; a 503 is retried.
      gosac.failNext(1, 404);
      expect(await downloader.download(`${gosac.url}/m/gone.pdf`, '1/3-gone.pdf').catch((e: ActionError) => e.retryable)).to.equal(false);
      gosac.failNext(1, 503);
      expect(await downloader.download(`${gosac.url}/m/busy.pdf`, '1/4-busy.pdf').catch((e: ActionError) => e.retryable)).to.equal(true);
      expect(await readdir(path.join(dir, '1'))).to.deep.equal(['1-a.pdf']);
    });
  });
});
