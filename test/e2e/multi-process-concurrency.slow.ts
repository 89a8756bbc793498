// Issue 4 item 4: one ROLE=web and two ROLE=worker processes (real separate processes, as the
// Procfile runs them) on one database and one Redis (when REDIS_URL is set), with 50 contacts
// talking at once and every contact sending one burst inside DEBOUNCE_TIME. Every contact must
// receive exactly the replies its flow dictates, in order, none twice.
import { expect } from 'chai';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { PROCESS_ADMIN_TOKEN, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';

const CONTACTS = 50;
const DEBOUNCE_MS = 1_000;
const BURST = ['primeira linha', 'segunda linha', 'terceira linha'];

const contactIds = Array.from({ length: CONTACTS }, (_, index) => 7_000 + index);
const nameOf = (contactId: number) => `Cliente ${contactId}`;
const ticketPath = (contactId: number) => `/messages/${contactId + 100_000}`;

/** What the flow below must answer, step by step, to a contact that follows the script. */
function expectedReplies(contactId: number): string[] {
  return [
    `Olá ${nameOf(contactId)}! Qual o número do pedido?`,
    `Pedido P-${contactId} anotado. Conte o problema.`,
    // The burst is one input: its texts joined by newlines, in arrival order.
    `Registrado: ${BURST.join('\n')}. Até logo!`,
  ];
}

describe('several processes: ROLE=web and two ROLE=worker on one database', function () {
  this.timeout(90_000);

  let testDb: TestDatabase;
  let gosac: FakeGosac;
  const processes: ServiceProcess[] = [];
  let web: ServiceProcess;

  before(async function () {
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    const env = {
      DATABASE_URL: testDb.url,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test',
      DEBOUNCE_TIME: String(DEBOUNCE_MS),
      MESSAGE_COOLDOWN: '0',
      WORKER_POLL_INTERVAL_MS: '100',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      // Without REDIS_URL each process keeps its own in-process state, which this flow never needs.
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    };
    const started = await Promise.all([
      startServiceProcess({ ...env, ROLE: 'web' }),
      startServiceProcess({ ...env, ROLE: 'worker' }),
      startServiceProcess({ ...env, ROLE: 'worker' }),
    ]);
    processes.push(...started);
    web = started[0];
  });

  after(async function () {
    await Promise.all(processes.map((service) => service.stop()));
    await gosac?.stop();
    await testDb?.drop();
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${web.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  const send = async (contactId: number, text: string) => {
    const response = await fetch(`${web.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ contactId, name: nameOf(contactId) }, text)),
    });
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { status: string }).status).to.equal('queued');
  };

  it('answers 50 contacts at once, bursts included, exactly as the flow says, in order, once', async function () {
    await buildFlowThroughApi({ admin }, [
      {
        name: 'Atendimento',
        messages: [
          { text: 'Olá {{contact_name}}! Qual o número do pedido?', saveResponseAs: 'pedido' },
          { text: 'Pedido {{pedido}} anotado. Conte o problema.', saveResponseAs: 'problema' },
          { text: 'Registrado: {{problema}}. Até logo!', waitForResponse: false },
        ],
      },
    ]);

    // Each contact behaves like a person: it answers a prompt once it has seen it.
    await Promise.all(
      contactIds.map(async (contactId) => {
        const path = ticketPath(contactId);
        await send(contactId, 'oi');
        await gosac.waitForMessages(path, 1, 30_000);
        await send(contactId, `P-${contactId}`);
        await gosac.waitForMessages(path, 2, 30_000);
        // The burst: three messages well inside the debounce window, answered together once.
        for (const line of BURST) await send(contactId, line);
        await gosac.waitForMessages(path, 3, 30_000);
      }),
    );
    // A late duplicate would show up after the last expected reply: give it time to appear.
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS + 1_500));

    for (const contactId of contactIds) {
      const received = gosac.requestsTo(ticketPath(contactId)).map((request) => request.body.body as string);
      expect(received, `replies to contact ${contactId}`).to.deep.equal(expectedReplies(contactId));
    }
    expect(gosac.requests.filter((request) => request.status >= 300)).to.have.length(0);

    const rows = (await testDb.db('message_history')
      .select('direction', 'status')
      .count({ n: '*' })
      .groupBy('direction', 'status')) as Array<{ direction: string; status: string; n: number | string }>;
    const counts = Object.fromEntries(rows.map((row) => [`${row.direction}:${row.status}`, Number(row.n)]));
    expect(counts).to.deep.equal({
      'inbound:processed': CONTACTS * (2 + BURST.length),
      'outbound:sent': CONTACTS * 3,
    });
    const conversations = await testDb.db('user_conversations').count({ n: '*' }).where({ is_completed: true }).first();
    expect(Number(conversations?.n)).to.equal(CONTACTS);
  });
});
