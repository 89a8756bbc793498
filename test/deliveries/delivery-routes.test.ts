// GET /api/deliveries and POST /api/deliveries/:id/retry against a real database (no worker run
// needed: rows are written as the runtime writes them).
import { expect } from 'chai';
import { createLogger } from '../../src/shared/logger.js';
import { createPgListener } from '../../src/shared/pg-listener.js';
import { OUTBOX_CHANNEL } from '../../src/shared/wake-channels.js';
import { eventually } from '../support/eventually.js';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('deliveries API', () => {
  let service: TestService;
  const ids: Record<string, number> = {};

  before(async () => {
    // No worker: the rows must stay as written while the API is examined.
    service = await startTestService({ ROLE: 'web' });
    const rows = [
      { contact_id: 501, body: 'a', status: 'failed', attempts: 10, last_error: 'GOSAC answered 500' },
      { contact_id: 501, body: 'b', status: 'sent', attempts: 1 },
      { contact_id: 502, body: 'c', status: 'failed', attempts: 1, last_error: 'GOSAC answered 404' },
      { contact_id: 502, body: 'd', status: 'pending', attempts: 0 },
      { contact_id: 503, body: 'e', status: 'dry_run', attempts: 1 },
    ];
    for (const row of rows) {
      const [inserted] = await service.testDb.db('message_history')
        .insert({ ...row, direction: 'outbound', ticket_id: row.contact_id + 1, reason: 'flow', due_at: new Date() })
        .returning('id');
      ids[row.body] = inserted.id;
    }
    await service.testDb.db('message_history').insert({
      contact_id: 501,
      direction: 'inbound',
      body: 'not a delivery',
      status: 'received',
      gosac_message_id: 'deliveries-inbound-1',
    });
  });
  after(async () => {
    await service?.stop();
    await service?.testDb.drop();
  });

  it('lists outbound rows newest first, filtered by status and contact, paged', async () => {
    const all = await service.admin('GET', '/api/deliveries');
    expect(all.status).to.equal(200);
    expect(all.body.map((row: { body: string }) => row.body)).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    const failed = await service.admin('GET', '/api/deliveries?status=failed');
    expect(failed.body.map((row: { body: string }) => row.body)).to.deep.equal(['c', 'a']);
    expect(failed.body[0]).to.include({ contact_id: 502, attempts: 1, last_error: 'GOSAC answered 404', status: 'failed' });
    const one = await service.admin('GET', '/api/deliveries?status=failed&contact_id=501');
    expect(one.body.map((row: { body: string }) => row.body)).to.deep.equal(['a']);
    const page = await fetch(`${service.url}/api/deliveries?limit=2&offset=1`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(page.headers.get('x-total-count')).to.equal('5');
    expect(((await page.json()) as Array<{ body: string }>).map((row) => row.body)).to.deep.equal(['d', 'c']);
  });

  it('lists cancelled replies', async () => {
    await service.testDb.db('message_history').insert({
      contact_id: 504,
      ticket_id: 505,
      direction: 'outbound',
      body: 'superseded',
      status: 'cancelled',
      reason: 'flow',
      last_error: 'superseded by a newer input',
    });
    const cancelled = await service.admin('GET', '/api/deliveries?status=cancelled');
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body.map((row: { body: string; status: string }) => [row.body, row.status])).to.deep.equal([['superseded', 'cancelled']]);
    await service.testDb.db('message_history').where({ contact_id: 504 }).delete();
  });

  it('refuses bad filters with 400 naming them', async () => {
    const bad = await service.admin('GET', '/api/deliveries?status=lost&limit=0');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors.join(' ')).to.match(/status/).and.match(/limit/);
  });

  it('retries a failed row: pending, due now, attempts reset, the send stages woken, an activity row', async () => {
    await service.testDb.db('message_history').where({ id: ids['a'] }).update({ uncertain_attempts: 2 });
    const listener = createPgListener(service.testDb.url, createLogger('silent'));
    let woken = 0;
    await listener.listen(OUTBOX_CHANNEL, () => {
      woken += 1;
    });
    try {
      const answer = await service.admin('POST', `/api/deliveries/${ids['a']}/retry`);
      expect(answer).to.deep.equal({ status: 200, body: { id: ids['a'], status: 'pending' } });
      await eventually(async () => {
        expect(woken).to.equal(1);
      }, 2_000, 10);
    } finally {
      await listener.close();
    }
    const row = await service.testDb.db('message_history').where({ id: ids['a'] }).first();
    expect(row).to.include({ status: 'pending', attempts: 0, uncertain_attempts: 0, claimed_until: null, last_error: null });
    expect(Math.abs(new Date(row.due_at).getTime() - Date.now())).to.be.below(5_000);
    const [logged] = await service.testDb.db('activity_logs').where({ action: 'delivery.retried' });
    expect(logged).to.deep.include({ actor: 'admin', contact_id: 501, details: { message_history_id: ids['a'] } });
    expect(logged.before).to.include({ status: 'failed', attempts: 10 });
  });

  it('answers 409 for a row that is not failed, 404 for an unknown one, 400 for a bad id', async () => {
    expect((await service.admin('POST', `/api/deliveries/${ids['b']}/retry`)).status).to.equal(409);
    expect((await service.admin('POST', `/api/deliveries/${ids['a']}/retry`)).status).to.equal(409);
    const missing = await service.admin('POST', '/api/deliveries/999999/retry');
    expect(missing.status).to.equal(404);
    expect(missing.body.errors).to.have.length(1);
    expect((await service.admin('POST', '/api/deliveries/abc/retry')).status).to.equal(400);
    expect((await fetch(`${service.url}/api/deliveries`)).status).to.equal(401);
  });
});
