// kill -9 of a real worker process at each step of answering a message, then a restart: every
// accepted message is answered, and a reply is doubled only in the one window we cannot close
// (GOSAC took it, the worker died before recording that; resent once its send lease ran out). The web role runs in its own process
// throughout, as in production; the test holds locks and GOSAC answers to stop the worker exactly
// where it wants it.
import { expect } from 'chai';
import pg from 'pg';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { insertFlow } from '../support/flow-builder.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';

const GREETING = ['Olá!', 'Escolha 1 para continuar.'];
const CHOSEN = 'Você escolheu um.';

describe('kill -9 of the worker at every step, then restart', function () {
  this.timeout(120_000);
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let web: ServiceProcess;
  let worker: ServiceProcess | undefined;
  let env: Record<string, string>;
  const duplicates: Record<string, number> = {};

  before(async () => {
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    await insertFlow(testDb.db, [
      { name: 'Início', messages: [{ text: GREETING[0]!, waitForResponse: false }, { text: GREETING[1]! }] },
      { name: 'Um', keywords: ['1'], messages: [{ text: CHOSEN }] },
    ]);
    env = {
      DATABASE_URL: testDb.url,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION crash-test',
      // Long enough to kill the worker between accepting a message and processing it.
      DEBOUNCE_TIME: '1500',
      MESSAGE_COOLDOWN: '0',
      WORKER_POLL_INTERVAL_MS: '100',
      // The send lease is GOSAC's timeout + 5 s: a reply in flight when its worker died is resent
      // after that.
      GOSAC_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'error',
    };
    web = await startServiceProcess({ ...env, ROLE: 'web' });
    worker = await startWorker();
  });
  after(async () => {
    await worker?.kill();
    await web?.stop();
    await gosac?.stop();
    await testDb?.drop();
    console.log(`      duplicates per window: ${JSON.stringify(duplicates)}`);
  });

  const startWorker = () => startServiceProcess({ ...env, ROLE: 'worker' });
  const ticketOf = (contactId: number) => contactId + 1_000;
  const received = (contactId: number) => gosac.requestsTo(`/messages/${ticketOf(contactId)}`).map((request) => request.body.body as string);

  async function send(contactId: number, text: string): Promise<void> {
    const response = await fetch(`${web.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ contactId, ticketId: ticketOf(contactId) }, text)),
    });
    expect(await response.json()).to.deep.equal({ status: 'queued' });
  }

  async function killAndRestart(): Promise<number> {
    await worker!.kill();
    worker = await startWorker();
    return Date.now();
  }

  /** Waits for the contact's replies, lets stray duplicates arrive, and checks our tables agree. */
  async function expectAnswered(contactId: number, expected: string[], window: string, since: number): Promise<void> {
    await gosac.waitForMessages(`/messages/${ticketOf(contactId)}`, expected.length, 30_000);
    const recoveredMs = Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const got = received(contactId);
    duplicates[window] = got.length - new Set(got).size;
    expect(got, window).to.deep.equal(expected);
    const rows = await testDb.db('message_history').where({ contact_id: contactId }).orderBy('id').select('direction', 'status');
    expect(rows.filter((row) => row.direction === 'inbound').map((row) => row.status)).to.satisfy((statuses: string[]) =>
      statuses.every((status) => status === 'processed'),
    );
    expect(rows.filter((row) => row.direction === 'outbound').map((row) => row.status)).to.satisfy((statuses: string[]) =>
      statuses.every((status) => status === 'sent'),
    );
    console.log(`      ${window}: answered ${recoveredMs} ms after the restart; ${duplicates[window]} duplicate(s)`);
  }

  it('(a) after the webhook accepted the message, before processing: answered once', async () => {
    const contactId = 95_001;
    await send(contactId, 'oi');
    const restarted = await killAndRestart();
    await expectAnswered(contactId, GREETING, 'after accepting', restarted);
  });

  it('(b) inside the transition transaction: rolled back, processed again, answered once', async () => {
    const contactId = 95_002;
    await send(contactId, 'oi');
    await gosac.waitForMessages(`/messages/${ticketOf(contactId)}`, 2, 20_000);

    // Hold the conversation row from our own connection: the worker's transaction (inbox rows
    // already locked) blocks on it at the latest when it saves the new snapshot.
    const blocker = new pg.Client({ connectionString: testDb.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM user_conversations WHERE contact_id = $1 AND is_active FOR UPDATE', [contactId]);
    await send(contactId, '1');
    await until(async () => {
      const waiting = await testDb.db.raw(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return waiting.rows[0].n > 0;
    }, 20_000);
    const stepping = await testDb.db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted");
    expect(stepping.rows[0].n, 'the contact is being stepped when the worker dies').to.be.at.least(1);

    await worker!.kill();
    await blocker.query('ROLLBACK');
    await blocker.end();
    const [inbound] = await testDb.db('message_history').where({ contact_id: contactId, body: '1' }).select('status');
    expect(inbound!.status, 'nothing of the killed transaction was kept').to.equal('received');
    worker = await startWorker();
    await expectAnswered(contactId, [...GREETING, CHOSEN], 'inside the transaction', Date.now());
  });

  it('(c) after GOSAC took a reply, before the send stage recorded it: exactly one duplicate', async () => {
    const contactId = 95_003;
    await send(contactId, 'oi');
    await gosac.waitForMessages(`/messages/${ticketOf(contactId)}`, 2, 20_000);

    const held = gosac.holdNext();
    await send(contactId, '1');
    const request = await held;
    expect(request.body.body).to.equal(CHOSEN);
    await worker!.kill();
    gosac.releaseHeld();
    const [row] = await testDb.db('message_history').where({ contact_id: contactId, body: CHOSEN }).select('status', 'attempts', 'claimed_until');
    expect(row, 'the sending was not recorded').to.include({ status: 'pending', attempts: 1 });
    expect(row.claimed_until, 'claimed by the dead worker').to.not.equal(null);
    worker = await startWorker();
    await expectAnswered(contactId, [...GREETING, CHOSEN, CHOSEN], 'GOSAC answered, not recorded', Date.now());
    expect(duplicates).to.deep.equal({ 'after accepting': 0, 'inside the transaction': 0, 'GOSAC answered, not recorded': 1 });
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
