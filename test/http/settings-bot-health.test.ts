import { expect } from 'chai';
import knexFactory from 'knex';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: settings and bot switches', () => {
  let app: HttpTestApp;
  beforeEach(async () => {
    app = await startHttpTestApp({ env: { TEST_CONTACT_ID: '77' } });
  });
  afterEach(() => app.close());

  it('lists every setting as {KEY: {value, type, description}}', async () => {
    const answer = await app.api('GET', '/api/settings');
    expect(answer.status).to.equal(200);
    expect(answer.body.BOT_ENABLED).to.include({ value: true, type: 'boolean' });
    expect(answer.body.DEBOUNCE_TIME).to.include({ value: 0, type: 'number' });
    expect(answer.body.TEST_CONTACT_ID).to.include({ value: '77', type: 'string' });
    expect(answer.body.BOT_STATUS.description).to.be.a('string');
  });

  it('updates a setting, which takes effect at once and is logged', async () => {
    const answer = await app.api('PUT', '/api/settings/DEBOUNCE_TIME', { value: 3000, type: 'number', description: 'espera' });
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ status: 'updated' });
    const list = await app.api('GET', '/api/settings');
    expect(list.body.DEBOUNCE_TIME).to.include({ value: 3000, description: 'espera' });
    expect((await app.deps.settings.current()).DEBOUNCE_TIME).to.equal(3000);
    const log = await app.deps.db('activity_logs').where({ action: 'setting.updated', actor: 'admin' }).first();
    expect(log?.details).to.deep.equal({ key: 'DEBOUNCE_TIME' });
    const fromText = await app.api('PUT', '/api/settings/BOT_STATUS', { value: 'maintenance' });
    expect(fromText.status).to.equal(200);
    expect((await app.api('GET', '/api/bot/status')).body.bot_status).to.equal('maintenance');
  });

  it('answers 400 for an unknown key or a bad value, naming the field', async () => {
    const unknown = await app.api('PUT', '/api/settings/NOPE', { value: 1 });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.errors[0]).to.match(/^key: /);
    const badValue = await app.api('PUT', '/api/settings/DEBOUNCE_TIME', { value: 'soon' });
    expect(badValue.status).to.equal(400);
    expect(badValue.body.errors[0]).to.match(/^value: /);
    const badType = await app.api('PUT', '/api/settings/BOT_ENABLED', { value: true, type: 'number' });
    expect(badType.status).to.equal(400);
    expect(badType.body.errors[0]).to.match(/^type: /);
    const missing = await app.api('PUT', '/api/settings/BOT_ENABLED', { type: 'color' });
    expect(missing.status).to.equal(400);
    expect(missing.body.errors).to.have.members(['value: required', 'type: must be one of string, boolean, number, json']);
  });

  it('reports the bot status and flips it on and off', async () => {
    const status = await app.api('GET', '/api/bot/status');
    expect(status.status).to.equal(200);
    expect(status.body).to.deep.equal({
      bot_enabled: true,
      bot_status: 'active',
      test_mode: false,
      test_contact_id: '77',
      debounce_time: 0,
    });
    expect((await app.api('POST', '/api/bot/disable')).body).to.deep.equal({ status: 'disabled' });
    expect((await app.deps.settings.current()).BOT_ENABLED).to.equal(false);
    expect((await app.api('GET', '/api/bot/status')).body.bot_enabled).to.equal(false);
    expect((await app.api('POST', '/api/bot/enable')).body).to.deep.equal({ status: 'enabled' });
    expect((await app.deps.settings.current()).BOT_ENABLED).to.equal(true);
  });

  it('turns test mode on and off, optionally with the contact', async () => {
    const on = await app.api('POST', '/api/bot/test-mode', { enabled: true, contact_id: 456 });
    expect(on.status).to.equal(200);
    expect(on.body).to.include({ test_mode: true });
    const current = await app.deps.settings.current();
    expect(current).to.include({ TEST_MODE: true, TEST_CONTACT_ID: '456' });
    const off = await app.api('POST', '/api/bot/test-mode', { enabled: false });
    expect(off.body).to.include({ test_mode: false });
    expect(await app.deps.settings.current()).to.include({ TEST_MODE: false, TEST_CONTACT_ID: '456' });
    const bad = await app.api('POST', '/api/bot/test-mode', { enabled: 'sim', contact_id: { id: 1 } });
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.have.members(['enabled: must be true or false', 'contact_id: must be a contact id (text or number)']);
    expect((await app.api('POST', '/api/bot/test-mode', {})).body.errors).to.deep.equal(['enabled: required']);
  });
});

describe('GET /health', () => {
  it('answers ok without a token', async () => {
    const app = await startHttpTestApp();
    try {
      const answer = await app.raw('GET', '/health');
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ status: 'ok', bot_enabled: true, bot_status: 'active', test_mode: false });
      expect(Date.parse(answer.body.timestamp)).to.be.closeTo(Date.now(), 60_000);
    } finally {
      await app.close();
    }
  });

  it('answers 503 degraded when the database does not answer', async () => {
    // Nothing listens on port 9 of localhost: every connection attempt fails at once.
    const quiet = () => undefined;
    const unreachable = knexFactory({
      client: 'pg',
      connection: 'postgres://nobody@127.0.0.1:9/nowhere',
      pool: { min: 0, max: 1 },
      log: { error: quiet, warn: quiet, debug: quiet, deprecate: quiet },
    });
    const app = await startHttpTestApp({ deps: (deps) => ({ ...deps, db: unreachable }) });
    try {
      const started = Date.now();
      const answer = await app.raw('GET', '/health');
      expect(answer.status).to.equal(503);
      expect(answer.body).to.include({ status: 'degraded', bot_enabled: true });
      expect(answer.text).not.to.match(/ECONNREFUSED|select/);
      expect(Date.now() - started).to.be.below(5_000);
    } finally {
      await app.close();
      await unreachable.destroy();
    }
  });
});
