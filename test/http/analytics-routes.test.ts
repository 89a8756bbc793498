// GET /api/analytics/*: figures over rows with known timestamps, and a funnel over conversations
// the real step engine played through.
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { createTestStepEngine } from '../support/test-step-engine.js';
import { insertFlow, insertInbound, type InsertedFlow } from '../support/flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: analytics', () => {
  let app: HttpTestApp;
  let flow: InsertedFlow;
  let otherFlow: InsertedFlow;
  let versionId: number;
  let contact = 20_000;

  before(async () => {
    // Days in UTC here, so the fixed timestamps below read plainly; TIMEZONE is tested on its own.
    app = await startHttpTestApp({ env: { TIMEZONE: 'UTC' } });
    flow = await insertFlow(app.deps.db, [
      {
        name: 'Menu',
        messages: [{ text: 'Olá!', waitForResponse: false }, { text: 'Menu: 1 orçamento' }],
      },
      {
        name: 'Orçamento',
        keywords: ['1'],
        messages: [
          { text: 'Qual ambiente?' },
          { text: 'Envie o PDF.', waitForFile: true, expectedFileTypes: ['pdf'] },
          { text: 'Obrigado!', waitForResponse: false },
        ],
      },
    ], { name: 'Atendimento' });
    otherFlow = await insertFlow(app.deps.db, [{ name: 'Só', messages: [{ text: 'x' }] }], { name: 'Outro', isDefault: false });
    const [version] = await app.deps.db('flow_versions')
      .insert({ flow_id: otherFlow.flowId, content_hash: 'fixed', definition: '{}', machine_config: '{}' })
      .returning('id');
    versionId = version.id;
  });
  after(() => app.close());

  const at = (day: number, hour = 12) => new Date(Date.UTC(2026, 2, day, hour));

  async function conversation(values: Record<string, unknown>): Promise<number> {
    contact += 1;
    const [row] = await app.deps.db('user_conversations')
      .insert({ contact_id: contact, flow_id: otherFlow.flowId, flow_version_id: versionId, conversation_state: '{}', ...values })
      .returning('id');
    return row.id;
  }

  describe('conversations and files over a given range', () => {
    before(async () => {
      const db = app.deps.db;
      const c1 = await conversation({ started_at: at(1) });
      await conversation({ started_at: at(2), bot_paused_at: at(2) });
      await conversation({ started_at: at(2), is_active: false, is_completed: true });
      await conversation({ started_at: at(3), is_active: false, closed_reason: 'timeout' });
      await conversation({ started_at: at(3), is_active: false, closed_reason: 'reset' });
      // Outside the range: not counted.
      await conversation({ started_at: at(5) });
      await conversation({ started_at: new Date(Date.UTC(2026, 1, 28, 23, 59)) });

      const message = (day: number, hour: number, direction: string, status: string) => ({
        contact_id: 1,
        conversation_id: c1,
        direction,
        status,
        created_at: at(day, hour),
        ...(direction === 'inbound' ? { gosac_message_id: `a-${day}-${hour}-${Math.random()}` } : {}),
      });
      await db('message_history').insert([
        message(1, 0, 'inbound', 'processed'),
        message(1, 23, 'inbound', 'processed'),
        message(1, 10, 'outbound', 'sent'),
        message(1, 11, 'outbound', 'failed'),
        message(3, 9, 'outbound', 'pending'),
        message(3, 9, 'outbound', 'dry_run'),
        message(4, 0, 'inbound', 'processed'),
      ]);
      const inboundId = (await db('message_history').where({ direction: 'inbound' }).first('id')).id;
      const file = (day: number, type: string, size: number | null) => ({
        conversation_id: c1,
        message_history_id: inboundId,
        contact_id: 1,
        file_name: `f.${type}`,
        file_type: type,
        file_size_bytes: size,
        created_at: at(day),
      });
      await db('received_files').insert([
        file(1, 'pdf', 1_048_576),
        file(2, 'pdf', 3 * 1_048_576),
        file(3, 'dwg', 524_288),
        file(2, 'zip', null),
        file(9, 'pdf', 99 * 1_048_576),
      ]);
    });

    it('counts conversations by status and by flow, and messages per UTC day, zeros included', async () => {
      const answer = await app.api('GET', '/api/analytics/conversations?from=2026-03-01&to=2026-03-03');
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.include({
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-03-03T23:59:59.999Z',
        by_status: [
          { status: 'active', count: 1 },
          { status: 'paused', count: 1 },
          { status: 'completed', count: 1 },
          { status: 'closed', count: 2 },
        ],
        by_flow: [{ flow_id: otherFlow.flowId, flow_name: 'Outro', count: 5 }],
        daily_messages: [
          { date: '2026-03-01', inbound: 2, outbound: 1 },
          { date: '2026-03-02', inbound: 0, outbound: 0 },
          { date: '2026-03-03', inbound: 0, outbound: 2 },
        ],
      });
    });

    it('takes date-times as instants', async () => {
      const answer = await app.api('GET', '/api/analytics/conversations?from=2026-03-02T00:00:00Z&to=2026-03-02T12:00:00Z');
      expect(answer.body.by_status.map((row: any) => row.count)).to.deep.equal([0, 1, 1, 0]);
      expect(answer.body.daily_messages).to.deep.equal([{ date: '2026-03-02', inbound: 0, outbound: 0 }]);
    });

    it('groups received files by type with their average size in MB', async () => {
      const answer = await app.api('GET', '/api/analytics/files?from=2026-03-01&to=2026-03-03');
      expect(answer.status).to.equal(200);
      expect(answer.body.files_by_type).to.deep.equal([
        { file_type: 'pdf', count: 2, avg_size_mb: 2 },
        { file_type: 'dwg', count: 1, avg_size_mb: 0.5 },
        { file_type: 'zip', count: 1, avg_size_mb: null },
      ]);
    });

    it('covers the last 30 UTC days by default', async () => {
      const answer = await app.api('GET', '/api/analytics/conversations');
      expect(answer.status).to.equal(200);
      const days = answer.body.daily_messages.map((row: any) => row.date);
      expect(days).to.have.length(30);
      expect(days.at(-1)).to.equal(new Date().toISOString().slice(0, 10));
      expect(Date.parse(answer.body.to) - Date.parse(answer.body.from)).to.equal(30 * 86_400_000 - 1);
      const files = await app.api('GET', '/api/analytics/files');
      expect(files.status).to.equal(200);
      expect(files.body.files_by_type).to.deep.equal([]);
    });

    it('answers 400 naming from or to when they are invalid or out of order, and 401 without the token', async () => {
      const cases: Array<[string, string]> = [
        ['from=yesterday', 'from'],
        ['to=2026-13-01', 'to'],
        ['from=2026-03-05&to=2026-03-01', 'from'],
        ['from=2099-01-01', 'from'],
        ['from=2020-01-01&to=2026-01-01', 'from'],
      ];
      for (const path of ['/api/analytics/conversations', '/api/analytics/files', `/api/analytics/funnel/${flow.flowId}`]) {
        for (const [query, name] of cases) {
          const answer = await app.api('GET', `${path}?${query}`);
          expect(answer.status, `${path}?${query}`).to.equal(400);
          expect(answer.body.errors[0], query).to.match(new RegExp(`^${name}: `));
        }
        expect((await app.api('GET', path, undefined, { authorization: '' })).status).to.equal(401);
      }
    });
  });

  describe('GET /api/analytics/funnel/:flowId', () => {
    before(async () => {
      // A second ahead of the database's now(): a row stored within the same millisecond as the
      // batch's clock (JS ms vs PostgreSQL µs) would otherwise not be due yet and stay unanswered.
      const engine = createTestStepEngine(app.deps, { now: () => Date.now() + 1_000 });
      const play = async (...inputs: Array<string | { file: string }>) => {
        contact += 1;
        for (const input of inputs) {
          await insertInbound(
            app.deps.db,
            typeof input === 'string'
              ? { contactId: contact, body: input }
              : { contactId: contact, body: input.file, mediaType: 'application', mediaPath: input.file },
          );
          await engine.runBatch();
        }
        return contact;
      };
      await play('oi');
      await play('oi', '1');
      const closed = await play('oi', '1', 'cozinha');
      await play('oi', '1', 'sala', { file: 'projeto.pdf' });
      await play('oi', 'não sei', 'hein?');
      const closedId = (await app.deps.db('user_conversations').where({ contact_id: closed }).first('id')).id;
      expect((await app.api('POST', `/api/conversations/${closedId}/close`)).status).to.equal(200);
      // Started long ago: outside the default range.
      await app.deps.db('user_conversations').insert({
        contact_id: 1, flow_id: flow.flowId, flow_version_id: versionId, conversation_state: '{}',
        current_message_id: flow.messageIds['Menu']![1], started_at: new Date(Date.now() - 60 * 86_400_000),
      });
    });

    it('lists every active message in order with how many conversations reached it and stopped there', async () => {
      const answer = await app.api('GET', `/api/analytics/funnel/${flow.flowId}`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ flow_id: flow.flowId, flow_name: 'Atendimento', conversations: 5 });
      const [greeting, menu] = flow.messageIds['Menu']!;
      const [room, file, thanks] = flow.messageIds['Orçamento']!;
      expect(answer.body.steps.map((step: any) => [step.message_id, step.reached, step.stopped, step.waiting])).to.deep.equal([
        [greeting, 5, 0, 0],
        // The re-prompts of "não sei" and "hein?" do not count twice.
        [menu, 5, 2, 2],
        [room, 3, 1, 1],
        // Closed by an admin while waiting for the file: stopped there, no longer waiting.
        [file, 2, 1, 0],
        [thanks, 1, 0, 0],
      ]);
      expect(answer.body.steps[2]).to.include({ subflow_name: 'Orçamento', message_text: 'Qual ambiente?', subflow_id: flow.subflowIds['Orçamento'] });
    });

    it('leaves deactivated messages out and honours the range', async () => {
      const [, , thanks] = flow.messageIds['Orçamento']!;
      await app.deps.db('flow_messages').where({ id: thanks }).update({ is_active: false });
      const answer = await app.api('GET', `/api/analytics/funnel/${flow.flowId}`);
      expect(answer.body.steps.map((step: any) => step.message_id)).not.to.include(thanks);
      await app.deps.db('flow_messages').where({ id: thanks }).update({ is_active: true });

      const old = await app.api('GET', `/api/analytics/funnel/${flow.flowId}?from=2020-01-01&to=2020-12-31`);
      expect(old.body.conversations).to.equal(0);
      expect(old.body.steps.every((step: any) => step.reached === 0 && step.stopped === 0)).to.equal(true);
    });

    it('answers 404 for an unknown flow and 400 for a bad flow id', async () => {
      const missing = await app.api('GET', '/api/analytics/funnel/999999');
      expect(missing.status).to.equal(404);
      expect(missing.body.errors[0]).to.match(/flow 999999/);
      const bad = await app.api('GET', '/api/analytics/funnel/abc');
      expect(bad.status).to.equal(400);
      expect(bad.body.errors[0]).to.match(/^flowId: /);
    });
  });
});

describe('admin API: analytics count days in the TIMEZONE setting', () => {
  // 22:30 on 23 November in São Paulo (UTC-3), already the 24th in UTC.
  const evening = new Date('2026-11-24T01:30:00Z');
  const query = '/api/analytics/conversations?from=2026-11-23&to=2026-11-24';

  async function appWithMessage(env: Record<string, string> = {}): Promise<HttpTestApp> {
    const app = await startHttpTestApp({ env });
    await app.deps.db('message_history').insert({
      contact_id: 1, direction: 'inbound', status: 'processed', body: 'boa noite', created_at: evening, gosac_message_id: 'tz-1',
    });
    return app;
  }

  it('counts a message of 01:30 UTC on the previous day with the default zone, on its UTC day with TIMEZONE=UTC', async () => {
    const saoPaulo = await appWithMessage();
    try {
      const answer = await saoPaulo.api('GET', query);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.include({
        timezone: 'America/Sao_Paulo',
        from: '2026-11-23T03:00:00.000Z',
        to: '2026-11-25T02:59:59.999Z',
        daily_messages: [
          { date: '2026-11-23', inbound: 1, outbound: 0 },
          { date: '2026-11-24', inbound: 0, outbound: 0 },
        ],
      });
      // The one day the business saw it on.
      const day = await saoPaulo.api('GET', '/api/analytics/conversations?from=2026-11-23&to=2026-11-23');
      expect(day.body.daily_messages).to.deep.equal([{ date: '2026-11-23', inbound: 1, outbound: 0 }]);
      // By default the last 30 days of São Paulo, today's date there last.
      const recent = (await saoPaulo.api('GET', '/api/analytics/conversations')).body.daily_messages.map((row: any) => row.date);
      expect(recent).to.have.length(30);
      expect(recent.at(-1)).to.equal(new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Sao_Paulo' }).format(new Date()));
    } finally {
      await saoPaulo.close();
    }
    const utc = await appWithMessage({ TIMEZONE: 'UTC' });
    try {
      const answer = await utc.api('GET', query);
      expect(answer.body).to.deep.include({
        timezone: 'UTC',
        from: '2026-11-23T00:00:00.000Z',
        daily_messages: [
          { date: '2026-11-23', inbound: 0, outbound: 0 },
          { date: '2026-11-24', inbound: 1, outbound: 0 },
        ],
      });
    } finally {
      await utc.close();
    }
  });

  it('takes the zone from the settings API at once (database over environment), and refuses an unknown one naming it', async () => {
    const app = await appWithMessage();
    try {
      const settings = await app.api('GET', '/api/settings');
      expect(settings.body.TIMEZONE).to.include({ value: 'America/Sao_Paulo', type: 'string', source: 'environment' });
      expect((await app.api('PUT', '/api/settings/TIMEZONE', { value: 'UTC' })).status).to.equal(200);
      const answer = await app.api('GET', query);
      expect(answer.body.timezone).to.equal('UTC');
      expect(answer.body.daily_messages.map((row: any) => row.inbound)).to.deep.equal([0, 1]);

      for (const bad of ['Mars/Olympus', '+03:00', 'UTC-3', '']) {
        const refused = await app.api('PUT', '/api/settings/TIMEZONE', { value: bad });
        expect(refused.status, bad).to.equal(400);
        expect(refused.body.errors[0], bad).to.match(/^value: /);
        if (bad !== '') expect(refused.body.errors[0]).to.include(`"${bad}"`);
      }
      expect((await app.api('GET', '/api/settings')).body.TIMEZONE).to.include({ value: 'UTC', source: 'database' });
    } finally {
      await app.close();
    }
  });

  it('refuses an unknown TIMEZONE in the environment at start, naming the variable', () => {
    expect(() => loadConfig({ TIMEZONE: 'America/Sao_Paolo' })).to.throw(/TIMEZONE: unknown time zone "America\/Sao_Paolo"/);
    expect(loadConfig({ TIMEZONE: '' }).settingsDefaults.TIMEZONE).to.equal('America/Sao_Paulo');
  });
});
