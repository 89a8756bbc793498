// The service as a real process on its embedded defaults (no DATABASE_URL, no REDIS_URL): ready,
// answers with the demo flow in dry run, and on SIGTERM stops taking webhooks, closes everything
// (its embedded PostgreSQL included) and exits 0 within SHUTDOWN_TIMEOUT.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeGosac } from '../support/fake-gosac.js';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { PROCESS_ADMIN_TOKEN, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';

const SHUTDOWN_TIMEOUT_S = 10;

describe('graceful shutdown of a real process on embedded defaults', function () {
  this.timeout(90_000);
  let folder: string;
  let service: ServiceProcess | undefined;

  before(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-shutdown-'));
    // The embedded server runs as `postgres` when the tests run as root.
    await chmod(folder, 0o777);
  });
  after(async () => {
    await service?.kill();
    await rm(folder, { recursive: true, force: true });
  });

  it('is ready, answers a webhook in dry run, then exits 0 on SIGTERM with its database stopped', async () => {
    service = await startServiceProcess({
      DATA_DIR: folder,
      DATABASE_URL: '',
      REDIS_URL: '',
      GOSAC_AUTHORIZATION_KEY: '',
      GOSAC_BASE_URL: '',
      DEMO_FLOW: 'true',
      DEBOUNCE_TIME: '0',
      MESSAGE_COOLDOWN: '0',
      SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S),
    });
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({
      status: 'ready',
      checks: { database: 'ok', worker: 'ok', default_flow: 'ok' },
      stuck_inputs: 0,
    });

    const webhook = await fetch(`${service.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ contactId: 91_001 }, 'Oi')),
    });
    expect(await webhook.json()).to.deep.equal({ status: 'queued' });
    const deadline = Date.now() + 15_000;
    let dryRuns: Array<{ contact_id: number; body: string }> = [];
    while (dryRuns.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const answer = await fetch(`${service.url}/api/deliveries?status=dry_run&contact_id=91001`, {
        headers: { authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
      });
      dryRuns = (await answer.json()) as typeof dryRuns;
    }
    expect(dryRuns.length, 'the demo flow answered (dry run)').to.be.above(0);

    const postgresPid = Number(readFileSync(path.join(folder, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(postgresPid)).to.equal(true);

    const started = Date.now();
    const exited = service.stop();
    // Once the signal is handled (give it a moment to arrive), a webhook is refused (503) or finds
    // the listener closed; it is never accepted.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = await fetch(`${service.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ contactId: 91_002 }, 'Oi')),
    }).then(
      (response) => response.status,
      () => 'refused',
    );
    expect(late).to.be.oneOf([503, 'refused']);
    const code = await exited;
    const tookMs = Date.now() - started;
    expect(code).to.equal(0);
    expect(tookMs).to.be.below(SHUTDOWN_TIMEOUT_S * 1000);
    expect(isAlive(postgresPid), 'embedded PostgreSQL stopped').to.equal(false);
    console.log(`      SIGTERM → exit 0 in ${tookMs} ms, embedded PostgreSQL (pid ${postgresPid}) gone`);
    service = undefined;
  });
});

describe('graceful shutdown while a reply hangs at GOSAC', function () {
  this.timeout(90_000);

  it('aborts the call, keeps the reply pending, and still exits 0 within SHUTDOWN_TIMEOUT', async () => {
    const testDb = await createTestDatabase();
    const gosac = await startFakeGosac();
    // GOSAC takes the request and never answers within the test; our own timeout is longer than
    // the shutdown allows, so only the abort can end the call in time.
    const arrived = gosac.holdNext();
    const service = await startServiceProcess({
      DATABASE_URL: testDb.url,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test',
      GOSAC_TIMEOUT_MS: '60000',
      DEBOUNCE_TIME: '0',
      MESSAGE_COOLDOWN: '0',
      SHUTDOWN_TIMEOUT: '4',
    });
    try {
      await buildFlowThroughApi(
        { admin: (method, route, body) => adminCall(service.url, method, route, body) },
        [{ name: 'Início', messages: [{ text: 'Olá!' }] }],
      );
      await fetch(`${service.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(textMessage({ contactId: 92_001 }, 'Oi')),
      });
      await arrived;

      const started = Date.now();
      const code = await service.stop();
      const tookMs = Date.now() - started;
      expect(code).to.equal(0);
      expect(tookMs).to.be.below(4_000);
      const [row] = await testDb.db('message_history').where({ contact_id: 92_001, direction: 'outbound' });
      expect(row).to.include({ status: 'pending', body: 'Olá!' });
      console.log(`      SIGTERM with a reply hanging at GOSAC → exit 0 in ${tookMs} ms; reply kept pending (${row.last_error})`);
    } finally {
      await service.kill();
      gosac.releaseHeld();
      await gosac.stop();
      await testDb.drop();
    }
  });
});

async function adminCall(url: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
