// Durable timers survive kill -9: a worker killed while a reminder is due (before it fired, and
// in the middle of the transaction that fires it) leaves the timer to the next worker, which
// sends the reminder exactly once.
import { expect } from 'chai';
import pg from 'pg';
import { buildAttendantFlow, MENU, REMINDER } from '../support/attendant-flow.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { PROCESS_ADMIN_TOKEN, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';

const GREETING = 'Olá, Maria Souza!';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('kill -9 of the worker while a timer is due, then restart', function () {
  this.timeout(120_000);
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let web: ServiceProcess;
  let worker: ServiceProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    env = {
      DATABASE_URL: testDb.url,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION timer-crash-test',
      DEBOUNCE_TIME: '0',
      MESSAGE_COOLDOWN: '0',
      WORKER_POLL_INTERVAL_MS: '100',
      LOG_LEVEL: 'error',
    };
    web = await startServiceProcess({ ...env, ROLE: 'web' });
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${web.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    await buildAttendantFlow({ admin }, { reminder: 0.05, close: null });
    worker = await startServiceProcess({ ...env, ROLE: 'worker' });
  });
  after(async () => {
    await worker?.kill();
    await web?.stop();
    await gosac?.stop();
    await testDb?.drop();
  });

  const ticketOf = (contactId: number) => contactId + 1_000;
  const path = (contactId: number) => `/messages/${ticketOf(contactId)}`;
  const received = (contactId: number) => gosac.requestsTo(path(contactId)).map((request) => request.body.body as string);

  async function send(contactId: number, text: string): Promise<void> {
    const response = await fetch(`${web.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ contactId, ticketId: ticketOf(contactId) }, text)),
    });
    expect(await response.json()).to.deep.equal({ status: 'queued' });
  }

  /** Both replies recorded as sent: a kill now cannot resend them (that window is ADR 0002's). */
  async function repliesRecorded(contactId: number): Promise<void> {
    await until(async () => {
      const rows = await testDb.db('message_history').where({ contact_id: contactId, direction: 'outbound' }).select('status');
      return rows.length === 2 && rows.every((row) => row.status === 'sent');
    }, 20_000);
  }

  async function timersOf(contactId: number) {
    return testDb.db('conversation_timers').where({ contact_id: contactId }).orderBy('id').select('status', 'outcome', 'due_at');
  }

  it('(a) killed before the reminder came due, restarted after: the reminder is sent once', async () => {
    const contactId = 97_001;
    await send(contactId, 'Oi');
    await gosac.waitForMessages(path(contactId), 2, 20_000);
    await repliesRecorded(contactId);
    await worker!.kill();
    // The reminder comes due while no worker runs.
    await sleep(4_000);
    expect(received(contactId)).to.deep.equal([GREETING, MENU]);
    expect((await timersOf(contactId)).map((timer) => timer.status)).to.deep.equal(['pending']);
    worker = await startServiceProcess({ ...env, ROLE: 'worker' });
    await gosac.waitForMessages(path(contactId), 3, 20_000);
    await sleep(2_000);
    expect(received(contactId)).to.deep.equal([GREETING, MENU, REMINDER]);
    expect((await timersOf(contactId)).map((timer) => timer.status)).to.deep.equal(['fired']);
  });

  it('(b) killed inside the transaction that fires the timer: rolled back, fired once after restart', async () => {
    const contactId = 97_002;
    await send(contactId, 'Oi');
    await gosac.waitForMessages(path(contactId), 2, 20_000);
    await repliesRecorded(contactId);
    // Hold the conversation row: the timer stage's write blocks on it once it fires the reminder.
    const blocker = new pg.Client({ connectionString: testDb.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM user_conversations WHERE contact_id = $1 AND is_active FOR UPDATE', [contactId]);
    await until(async () => {
      const waiting = await testDb.db.raw(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return waiting.rows[0].n > 0;
    }, 20_000);
    await worker!.kill();
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect((await timersOf(contactId)).map((timer) => timer.status), 'nothing of the killed transaction was kept').to.deep.equal(['pending']);
    expect(received(contactId)).to.deep.equal([GREETING, MENU]);
    worker = await startServiceProcess({ ...env, ROLE: 'worker' });
    await gosac.waitForMessages(path(contactId), 3, 20_000);
    await sleep(2_000);
    expect(received(contactId)).to.deep.equal([GREETING, MENU, REMINDER]);
    expect((await timersOf(contactId)).map((timer) => timer.status)).to.deep.equal(['fired']);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
