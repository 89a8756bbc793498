// GET /api/inbox: the inputs no step has consumed, and among them the ones a failing step keeps
// stuck (the step engine leaves them 'received' with attempts, last_error and a backoff due_at).
import { expect } from 'chai';
import { insertInbound } from '../support/flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: GET /api/inbox', () => {
  let app: HttpTestApp;
  const ids: Record<string, number> = {};

  before(async () => {
    app = await startHttpTestApp();
    const db = app.deps.db;
    const inbound = async (name: string, contactId: number, values: Record<string, unknown>) => {
      ids[name] = await insertInbound(db, { contactId, body: name, ticketId: contactId + 1 });
      await db('message_history').where({ id: ids[name] }).update(values);
    };
    await inbound('failing', 61_001, { attempts: 2, last_error: 'step failed: boom', due_at: db.raw("now() + interval '4 seconds'") });
    await inbound('fresh', 61_001, { due_at: db.raw("now() + interval '2 seconds'") });
    await inbound('overdue', 61_002, { due_at: db.raw("now() - interval '2 minutes'") });
    await inbound('processed', 61_001, { status: 'processed', attempts: 1, last_error: 'failed once, then consumed' });
    await inbound('other failing', 61_003, { attempts: 1, last_error: 'step failed: again' });
    const [reply] = await db('message_history')
      .insert({ contact_id: 61_001, direction: 'outbound', body: 'reply', status: 'failed', last_error: 'GOSAC said no' })
      .returning('id');
    ids['reply'] = reply.id;
  });
  after(() => app.close());

  const bodies = (rows: Array<{ body: string }>) => rows.map((row) => row.body);

  it('lists the stuck inputs (a step failed on them, or over a minute overdue), oldest first, with their errors', async () => {
    const answer = await app.api('GET', '/api/inbox?status=stuck');
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('x-total-count')).to.equal('3');
    expect(bodies(answer.body)).to.deep.equal(['failing', 'overdue', 'other failing']);
    expect(Object.keys(answer.body[0]).sort()).to.deep.equal(
      ['attempts', 'body', 'contact_id', 'created_at', 'due_at', 'id', 'last_error', 'media_type', 'ticket_id'].sort(),
    );
    expect(answer.body[0]).to.include({
      id: ids['failing'],
      contact_id: 61_001,
      ticket_id: 61_002,
      media_type: 'text',
      attempts: 2,
      last_error: 'step failed: boom',
    });
    expect(Date.parse(answer.body[0].due_at)).to.be.above(Date.now());
    expect(Date.parse(answer.body[0].created_at)).to.be.at.most(Date.now());
    // stuck is the default
    expect(bodies((await app.api('GET', '/api/inbox')).body)).to.deep.equal(['failing', 'overdue', 'other failing']);
  });

  it('lists every input still waiting with status=waiting, never a consumed one or a reply', async () => {
    const answer = await app.api('GET', '/api/inbox?status=waiting');
    expect(answer.status).to.equal(200);
    expect(bodies(answer.body)).to.deep.equal(['failing', 'fresh', 'overdue', 'other failing']);
    const listed = answer.body.map((row: { id: number }) => row.id);
    expect(listed).not.to.include(ids['processed']);
    expect(listed).not.to.include(ids['reply']);
  });

  it('filters by contact and pages with X-Total-Count', async () => {
    const contact = await app.api('GET', '/api/inbox?status=waiting&contact_id=61001');
    expect(bodies(contact.body)).to.deep.equal(['failing', 'fresh']);
    expect(contact.headers.get('x-total-count')).to.equal('2');
    const page = await app.api('GET', '/api/inbox?status=waiting&limit=2&offset=1');
    expect(bodies(page.body)).to.deep.equal(['fresh', 'overdue']);
    expect(page.headers.get('x-total-count')).to.equal('4');
  });

  it('answers 400 naming a bad parameter and 401 without the token', async () => {
    const bad = await app.api('GET', '/api/inbox?status=failed&limit=0');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.have.members(['status: must be one of stuck, waiting', 'limit: must be at least 1']);
    const anonymous = await app.api('GET', '/api/inbox', undefined, { authorization: '' });
    expect(anonymous.status).to.equal(401);
  });
});
