// GET /api/conversations filters and pagination, and the close / reset / pause / resume controls,
// over real HTTP against a real database (the runtime side is in conversation-takeover.test.ts).
import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: conversation filters and controls', () => {
  let app: HttpTestApp;
  let flowA: number;
  let flowB: number;
  let versionA: number;
  let versionB: number;
  let nextContact = 5_000;

  before(async () => {
    app = await startHttpTestApp();
    const db = app.deps.db;
    const [template] = await db('flow_templates').insert({ name: 'Móveis' }).returning('id');
    const [a] = await db('flows').insert({ template_id: template.id, name: 'A', is_default: true }).returning('id');
    const [b] = await db('flows').insert({ template_id: template.id, name: 'B' }).returning('id');
    const versions = await db('flow_versions')
      .insert([
        { flow_id: a.id, content_hash: 'a', definition: '{}', machine_config: '{}' },
        { flow_id: b.id, content_hash: 'b', definition: '{}', machine_config: '{}' },
      ])
      .returning('id');
    flowA = a.id;
    flowB = b.id;
    versionA = versions[0].id;
    versionB = versions[1].id;
  });
  after(() => app.close());

  async function conversation(values: Record<string, unknown> = {}): Promise<number> {
    nextContact += 1;
    const onB = values['flow_id'] === flowB;
    const [row] = await app.deps
      .db('user_conversations')
      .insert({
        contact_id: nextContact,
        flow_id: flowA,
        flow_version_id: onB ? versionB : versionA,
        conversation_state: JSON.stringify({ value: 'start' }),
        ...values,
      })
      .returning('id');
    return row.id as number;
  }

  const ids = (body: any[]) => body.map((row) => row.id as number);

  describe('GET /api/conversations', () => {
    let active: number;
    let paused: number;
    let completed: number;
    let closed: number;
    let onFlowB: number;

    before(async () => {
      await app.deps.db('user_conversations').delete();
      const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
      active = await conversation({ last_activity_at: minutesAgo(1) });
      paused = await conversation({ last_activity_at: minutesAgo(2), bot_paused_at: minutesAgo(2) });
      completed = await conversation({ is_active: false, is_completed: true, closed_reason: 'completed', last_activity_at: minutesAgo(3) });
      closed = await conversation({ is_active: false, closed_reason: 'timeout', last_activity_at: minutesAgo(4) });
      onFlowB = await conversation({ flow_id: flowB, last_activity_at: minutesAgo(5) });
    });

    it('keeps answering an array of active conversations by default, with X-Total-Count', async () => {
      const answer = await app.api('GET', '/api/conversations');
      expect(answer.status).to.equal(200);
      expect(answer.body).to.be.an('array');
      expect(ids(answer.body)).to.deep.equal([active, paused, onFlowB]);
      expect(answer.headers.get('x-total-count')).to.equal('3');
      expect(answer.body[1]).to.include({ bot_paused: true, is_active: true });
      expect(answer.body[0]).to.include({ bot_paused: false, bot_paused_at: null });
    });

    it('filters by status', async () => {
      const by = async (status: string) => ids((await app.api('GET', `/api/conversations?status=${status}`)).body);
      expect(await by('active')).to.deep.equal([active, paused, onFlowB]);
      expect(await by('paused')).to.deep.equal([paused]);
      expect(await by('completed')).to.deep.equal([completed]);
      expect(await by('closed')).to.deep.equal([closed]);
      expect(await by('all')).to.deep.equal([active, paused, completed, closed, onFlowB]);
    });

    it('filters by contact and by flow', async () => {
      const contact = (await app.deps.db('user_conversations').where({ id: closed }).first('contact_id')).contact_id;
      const byContact = await app.api('GET', `/api/conversations?status=all&contact_id=${contact}`);
      expect(ids(byContact.body)).to.deep.equal([closed]);
      expect(byContact.headers.get('x-total-count')).to.equal('1');
      const byFlow = await app.api('GET', `/api/conversations?flow_id=${flowB}`);
      expect(ids(byFlow.body)).to.deep.equal([onFlowB]);
      const none = await app.api('GET', `/api/conversations?flow_id=${flowB}&status=completed`);
      expect(none.body).to.deep.equal([]);
      expect(none.headers.get('x-total-count')).to.equal('0');
    });

    it('pages with limit and offset; the total counts every match', async () => {
      const first = await app.api('GET', '/api/conversations?status=all&limit=2');
      const second = await app.api('GET', '/api/conversations?status=all&limit=2&offset=2');
      const last = await app.api('GET', '/api/conversations?status=all&limit=2&offset=4');
      expect([ids(first.body), ids(second.body), ids(last.body)]).to.deep.equal([
        [active, paused],
        [completed, closed],
        [onFlowB],
      ]);
      for (const page of [first, second, last]) expect(page.headers.get('x-total-count')).to.equal('5');
    });

    it('answers 400 naming each bad parameter', async () => {
      const cases: Array<[string, string]> = [
        ['status=open', 'status'],
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['limit=abc', 'limit'],
        ['offset=-1', 'offset'],
        ['offset=1.5', 'offset'],
        ['contact_id=x', 'contact_id'],
        ['flow_id=0', 'flow_id'],
        ['limit=5&limit=6', 'limit'],
      ];
      for (const [query, name] of cases) {
        const answer = await app.api('GET', `/api/conversations?${query}`);
        expect(answer.status, query).to.equal(400);
        expect(answer.body.errors, query).to.be.an('array').with.length(1);
        expect(answer.body.errors[0], query).to.match(new RegExp(`^${name}: `));
      }
      const two = await app.api('GET', '/api/conversations?status=x&limit=999');
      expect(two.body.errors.map((error: string) => error.split(':')[0]).sort()).to.deep.equal(['limit', 'status']);
    });

    it('answers 401 without the token', async () => {
      const answer = await app.api('GET', '/api/conversations', undefined, { authorization: '' });
      expect(answer.status).to.equal(401);
    });
  });

  describe('close, reset, pause and resume', () => {
    const logs = (conversationId: number) =>
      app.deps.db('activity_logs').where({ conversation_id: conversationId }).orderBy('id');
    const row = (id: number) => app.deps.db('user_conversations').where({ id }).first();

    it('closes an active conversation with reason closed_by_admin and logs it', async () => {
      const id = await conversation();
      const answer = await app.api('POST', `/api/conversations/${id}/close`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ status: 'closed' });
      expect(await row(id)).to.include({ is_active: false, is_completed: false, closed_reason: 'closed_by_admin' });
      const [log] = await logs(id);
      expect(log).to.include({ actor: 'admin', action: 'conversation.closed_by_admin' });
      expect(String(log.contact_id)).to.equal(String((await row(id)).contact_id));
      expect(log.before).to.include({ id, is_active: true });
      expect(log.after).to.include({ id, is_active: false, closed_reason: 'closed_by_admin' });
    });

    it('resets an active (even paused) conversation with reason reset', async () => {
      const id = await conversation({ bot_paused_at: new Date() });
      const answer = await app.api('POST', `/api/conversations/${id}/reset`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ status: 'reset' });
      expect(await row(id)).to.include({ is_active: false, closed_reason: 'reset', bot_paused_at: null });
      expect((await logs(id)).map((log) => log.action)).to.deep.equal(['conversation.reset']);
    });

    it('pauses and resumes, logging both with before and after', async () => {
      const longAgo = new Date(Date.now() - 3 * 86_400_000);
      const id = await conversation({ last_activity_at: longAgo });
      const paused = await app.api('POST', `/api/conversations/${id}/pause`);
      expect(paused.status).to.equal(200);
      expect(paused.body).to.deep.equal({ status: 'paused' });
      expect((await row(id)).bot_paused_at).to.be.instanceOf(Date);
      expect((await app.api('GET', `/api/conversations/${id}`)).body).to.include({ bot_paused: true });

      const resumed = await app.api('POST', `/api/conversations/${id}/resume`);
      expect(resumed.status).to.equal(200);
      expect(resumed.body).to.deep.equal({ status: 'resumed' });
      const after = await row(id);
      expect(after).to.include({ bot_paused_at: null, is_active: true });
      // The idle timeout counts from the resume, not from before the agent's time.
      expect(after.last_activity_at.getTime()).to.be.greaterThan(longAgo.getTime() + 86_400_000);

      const entries = await logs(id);
      expect(entries.map((log) => log.action)).to.deep.equal(['conversation.paused', 'conversation.resumed']);
      expect(entries[0].before.bot_paused_at).to.equal(null);
      expect(entries[0].after.bot_paused_at).to.be.a('string');
      expect(entries[1].after.bot_paused_at).to.equal(null);
    });

    it('answers 409 when the conversation is not active, or the pause state does not fit', async () => {
      const completed = await conversation({ is_active: false, is_completed: true });
      const closed = await conversation({ is_active: false, closed_reason: 'timeout' });
      for (const action of ['close', 'reset', 'pause', 'resume']) {
        for (const id of [completed, closed]) {
          const answer = await app.api('POST', `/api/conversations/${id}/${action}`);
          expect(answer.status, action).to.equal(409);
          expect(answer.body.errors[0]).to.match(/not active/);
        }
      }
      const running = await conversation();
      expect((await app.api('POST', `/api/conversations/${running}/resume`)).body.errors[0]).to.match(/not paused/);
      expect((await app.api('POST', `/api/conversations/${running}/pause`)).status).to.equal(200);
      const again = await app.api('POST', `/api/conversations/${running}/pause`);
      expect(again.status).to.equal(409);
      expect(again.body.errors[0]).to.match(/already paused/);
      expect((await logs(completed)).length + (await logs(closed)).length).to.equal(0);
    });

    it('answers 404 for an unknown conversation, 400 for a bad id, 401 without the token', async () => {
      const id = await conversation();
      for (const action of ['close', 'reset', 'pause', 'resume']) {
        expect((await app.api('POST', `/api/conversations/987654321/${action}`)).status, action).to.equal(404);
        const bad = await app.api('POST', `/api/conversations/abc/${action}`);
        expect(bad.status).to.equal(400);
        expect(bad.body.errors[0]).to.match(/^id: /);
        const anonymous = await app.api('POST', `/api/conversations/${id}/${action}`, undefined, { authorization: 'Bearer wrong' });
        expect(anonymous.status).to.equal(401);
      }
      expect(await row(id)).to.include({ is_active: true, bot_paused_at: null });
    });
  });
});
