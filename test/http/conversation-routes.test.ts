import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: conversations', () => {
  let app: HttpTestApp;
  let flowId: number;
  let subflowId: number;
  let messageId: number;
  let versionId: number;

  before(async () => {
    app = await startHttpTestApp();
    const db = app.deps.db;
    const [template] = await db('flow_templates').insert({ name: 'Móveis' }).returning('id');
    const [flow] = await db('flows').insert({ template_id: template.id, name: 'Atendimento', is_default: true }).returning('id');
    const [subflow] = await db('subflows').insert({ flow_id: flow.id, name: 'Menu' }).returning('id');
    const [message] = await db('flow_messages').insert({ subflow_id: subflow.id, message_text: '1 orçamento, 2 assistência' }).returning('id');
    const [version] = await db('flow_versions')
      .insert({ flow_id: flow.id, content_hash: 'h1', definition: '{}', machine_config: '{}' })
      .returning('id');
    flowId = flow.id;
    subflowId = subflow.id;
    messageId = message.id;
    versionId = version.id;
  });
  after(() => app.close());

  async function conversation(values: Record<string, unknown>): Promise<number> {
    const [row] = await app.deps
      .db('user_conversations')
      .insert({
        flow_id: flowId,
        flow_version_id: versionId,
        conversation_state: JSON.stringify({ value: 'm1' }),
        ...values,
      })
      .returning('id');
    return row.id as number;
  }

  it('lists the 50 most recently active conversations with their names and current message', async () => {
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const recent = await conversation({
      contact_id: 1,
      contact_name: 'Maria',
      current_subflow_id: subflowId,
      current_message_id: messageId,
      last_activity_at: minutesAgo(1),
    });
    const closed = await conversation({ contact_id: 2, is_active: false, is_completed: true, last_activity_at: minutesAgo(0) });
    for (let i = 0; i < 55; i += 1) await conversation({ contact_id: 100 + i, last_activity_at: minutesAgo(10 + i) });

    const answer = await app.api('GET', '/api/conversations');
    expect(answer.status).to.equal(200);
    expect(answer.body).to.have.length(50);
    expect(answer.body[0]).to.include({
      id: recent,
      contact_id: 1,
      contact_name: 'Maria',
      template_name: 'Móveis',
      flow_name: 'Atendimento',
      subflow_name: 'Menu',
      current_message: '1 orçamento, 2 assistência',
      is_active: true,
    });
    expect(answer.body[0]).not.to.have.property('conversation_state');
    expect(answer.body.map((row: any) => row.id)).not.to.include(closed);
    const times = answer.body.map((row: any) => Date.parse(row.last_activity_at));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
  });

  it('reads one conversation, active or not, with its snapshot', async () => {
    const id = await conversation({ contact_id: 3, is_active: false, is_completed: true });
    const answer = await app.api('GET', `/api/conversations/${id}`);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.include({ id, contact_id: 3, is_completed: true, conversation_state: { value: 'm1' } });
    expect(answer.body).to.include({ flow_name: 'Atendimento', current_message: null });
  });

  it('gives the history of a conversation, inbound and outbound, oldest first', async () => {
    const id = await conversation({ contact_id: 4 });
    const other = await conversation({ contact_id: 5 });
    const db = app.deps.db;
    const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, seconds));
    await db('message_history').insert([
      { conversation_id: id, contact_id: 4, direction: 'outbound', body: 'Olá!', status: 'sent', created_at: at(2), sent_at: at(3) },
      { conversation_id: id, contact_id: 4, direction: 'inbound', body: 'oi', status: 'processed', created_at: at(1), gosac_message_id: 'g1' },
      { conversation_id: id, contact_id: 4, direction: 'inbound', body: 'projeto.pdf', media_type: 'application', media_url: 'https://gosac.example/f.pdf', status: 'processed', created_at: at(4), gosac_message_id: 'g2' },
      { conversation_id: other, contact_id: 5, direction: 'inbound', body: 'outro', status: 'processed', created_at: at(0), gosac_message_id: 'g3' },
    ]);
    const answer = await app.api('GET', `/api/conversations/${id}/history`);
    expect(answer.status).to.equal(200);
    expect(answer.body.map((row: any) => [row.direction, row.body])).to.deep.equal([
      ['inbound', 'oi'],
      ['outbound', 'Olá!'],
      ['inbound', 'projeto.pdf'],
    ]);
    expect(Object.keys(answer.body[2]).sort()).to.deep.equal([
      'body', 'contact_id', 'conversation_id', 'created_at', 'direction', 'due_at', 'flow_message_id', 'id', 'is_from_bot',
      'media_path', 'media_type', 'media_url', 'message_text', 'message_type', 'reason', 'sent_at', 'status', 'ticket_id',
    ]);
    expect(answer.body.map((row: any) => [row.is_from_bot, row.message_text])).to.deep.equal([
      [false, 'oi'],
      [true, 'Olá!'],
      [false, 'projeto.pdf'],
    ]);
    expect(answer.body[1].sent_at).to.equal(at(3).toISOString());
    expect(answer.body[2]).to.include({ media_type: 'application', message_type: 'application', media_url: 'https://gosac.example/f.pdf', conversation_id: id });
  });

  it('answers 404 for an unknown conversation and 400 for a bad id', async () => {
    expect((await app.api('GET', '/api/conversations/987654')).status).to.equal(404);
    expect((await app.api('GET', '/api/conversations/987654/history')).status).to.equal(404);
    const bad = await app.api('GET', '/api/conversations/x1');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors[0]).to.match(/^id: /);
  });
});
