// SPEC §9: GET /metrics after a conversation shows the counters moved.
import { expect } from 'chai';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { eventually } from '../support/eventually.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';

/** The value of one sample line (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('GET /metrics (SPEC §9)', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test' });
    await buildFlowThroughApi(service, [{ name: 'Boas-vindas', keywords: ['menu'], messages: [{ text: 'Olá!', waitForResponse: false }, { text: 'Menu' }] }]);
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  const scrape = async () => {
    const response = await service.admin('GET', '/metrics');
    expect(response.status).to.equal(200);
    return String(response.body);
  };

  it('needs the admin token', async () => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).to.equal(401);
  });

  it('counts webhooks, steps, their duration, deliveries and pending replies', async () => {
    const before = await scrape();
    expect(before).to.include('# TYPE flowbot_step_duration_seconds histogram');
    expect(before).to.include('# TYPE flowbot_outbox_pending gauge');
    expect(before).to.include('# TYPE flowbot_actions_total counter');

    expect((await service.webhook(textMessage({ contactId: 4_601 }, 'oi'))).status).to.equal(200);
    expect((await service.webhook({ not: 'a webhook' })).status).to.equal(400);
    await eventually(async () => {
      expect(gosac.requests.length).to.equal(2);
    }, 15_000);

    await eventually(async () => {
      const after = await scrape();
      expect(sample(after, 'flowbot_webhooks_total', 'status="200"') - sample(before, 'flowbot_webhooks_total', 'status="200"')).to.equal(1);
      expect(sample(after, 'flowbot_webhooks_total', 'status="400"') - sample(before, 'flowbot_webhooks_total', 'status="400"')).to.equal(1);
      expect(sample(after, 'flowbot_steps_total') - sample(before, 'flowbot_steps_total')).to.equal(1);
      expect(sample(after, 'flowbot_step_duration_seconds_count') - sample(before, 'flowbot_step_duration_seconds_count')).to.equal(1);
      expect(sample(after, 'flowbot_step_duration_seconds_sum')).to.be.greaterThan(0);
      expect(sample(after, 'flowbot_deliveries_total', 'result="sent"') - sample(before, 'flowbot_deliveries_total', 'result="sent"')).to.equal(2);
      expect(sample(after, 'flowbot_outbox_pending')).to.equal(0);
    });
  });

  it('reports replies waiting in the outbox', async () => {
    const conversation = await service.testDb.db('user_conversations').first('id');
    await service.testDb.db('message_history').insert({
      conversation_id: conversation.id,
      contact_id: 4_601,
      direction: 'outbound',
      body: 'later',
      media_type: 'text',
      status: 'pending',
      due_at: new Date(Date.now() + 3_600_000),
    });
    expect(sample(await scrape(), 'flowbot_outbox_pending')).to.equal(1);
  });
});
