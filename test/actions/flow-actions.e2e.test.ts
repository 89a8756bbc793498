// SPEC §8 end to end: a flow with actions built through the admin API, driven through the webhook,
// the real worker and a real database, against fake GOSAC (replies and media), Pontta and Google
// servers on 127.0.0.1 that check every header, body and multipart part. Faults included.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startService, type RunningService } from '../../src/service.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { testServiceConfig } from '../support/test-service.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startFakeGoogle, startFakePontta, type FakeGoogle, type FakePontta } from '../support/fake-integrations.js';
import { eventually } from '../support/eventually.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';

const GOSAC_SECRET = 'gosac-secret-never-logged-5521';
const DRIVE_FOLDER = 'drive-root-folder';
const SHEET = 'sheet-123';

describe('flow actions end to end (SPEC §8)', function () {
  this.timeout(120_000);
  let gosac: FakeGosac;
  let pontta: FakePontta;
  let google: FakeGoogle;
  let testDb: TestDatabase;
  let filesDir: string;
  let service: RunningService;
  let url: string;
  const logLines: string[] = [];
  let crashNextRecord = false;
  let nextContact = 90_000;

  const admin = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined, headers: response.headers };
  };
  const webhook = async (payload: unknown) => {
    const response = await fetch(`${url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(response.status).to.equal(200);
  };
  const created = async (route: string, body: unknown): Promise<number> => {
    const response = await admin('POST', route, body);
    expect(response.status, `${route}: ${JSON.stringify(response.body)}`).to.equal(201);
    return response.body.id as number;
  };
  const repliesTo = (ticket: number) => gosac.requestsTo(`/messages/${ticket}`).map((request) => String(request.body.body));

  before(async () => {
    gosac = await startFakeGosac();
    pontta = await startFakePontta();
    google = await startFakeGoogle();
    testDb = await createTestDatabase();
    filesDir = await mkdtemp(path.join(os.tmpdir(), 'flowbot-files-'));
    service = await startService(
      testServiceConfig({
        DATABASE_URL: testDb.url,
        LOG_LEVEL: 'trace',
        GOSAC_BASE_URL: gosac.url,
        GOSAC_AUTHORIZATION_KEY: `INTEGRATION ${GOSAC_SECRET}`,
        PONTTA_AUTH_URL: pontta.authUrl,
        PONTTA_BASE_URL: pontta.baseUrl,
        PONTTA_BUSINESS_UNIT: pontta.businessUnit,
        PONTTA_EMAIL: pontta.email,
        PONTTA_PASSWORD: pontta.password,
        GOOGLE_CLIENT_EMAIL: google.clientEmail,
        GOOGLE_PRIVATE_KEY: google.privateKey,
        GOOGLE_TOKEN_URI: google.tokenUri,
        GOOGLE_API_ROOT_URL: google.url,
        GOOGLE_DRIVE_FOLDER_ID: DRIVE_FOLDER,
        GOOGLE_SHEET_ID: SHEET,
        FILES_DIR: filesDir,
        ACTION_RETRY_BASE_MS: '50',
        ACTION_LEASE_MS: '1500',
      }),
      {
        logger: createLogger('trace', 'flow-bot', { destination: { write: (line: string) => logLines.push(line) } }),
        actionHooks: {
          beforeRecord: async (run) => {
            if (!crashNextRecord || run.action_type !== 'pontta.create_occurrence') return;
            crashNextRecord = false;
            throw new Error('simulated crash between the call and its record');
          },
        },
      },
    );
    url = service.url!;

    const templateId = await created('/api/flow-templates', { name: 'Móveis' });
    const flowId = await created('/api/flows', { template_id: templateId, name: 'Atendimento', is_default: true });
    const start = await created('/api/subflows', { flow_id: flowId, name: 'Início', trigger_keywords: ['menu'], order_index: 0 });
    await created('/api/flow-messages', { subflow_id: start, message_text: 'Olá! 2 para assistência, 3 para teste.', order_index: 0 });
    const assistance = await created('/api/subflows', { flow_id: flowId, name: 'Assistência', trigger_keywords: ['2'], order_index: 1 });
    await created('/api/flow-messages', { subflow_id: assistance, message_text: 'Número do pedido?', save_response_as: 'pedido', order_index: 0 });
    await created('/api/flow-messages', {
      subflow_id: assistance,
      message_text: 'Envie uma foto ou PDF.',
      wait_for_response: false,
      wait_for_file: true,
      expected_file_types: ['pdf', 'jpg', 'png'],
      order_index: 1,
    });
    await created('/api/flow-messages', {
      subflow_id: assistance,
      message_text: 'Ocorrência nº {{ocorrencia|não registrada}} aberta.',
      wait_for_response: false,
      order_index: 2,
      actions: [
        { type: 'pontta.create_occurrence', title: 'Assistência - {{contact_name}}', note: 'Pedido {{pedido}}', sales_order_code: '{{pedido}}', save_result_as: 'ocorrencia' },
        { type: 'pontta.attach_files', occurrence: '{{ocorrencia}}' },
        { type: 'drive.upload_files' },
        { type: 'sheets.append_row', values: ['{{contact_number}}', '{{pedido}}', '{{ocorrencia}}'], range: 'Assistência!A1' },
      ],
    });
    await created('/api/flow-messages', { subflow_id: assistance, message_text: 'Algo mais? (ocorrência {{ocorrencia}})', order_index: 3 });
    const failing = await created('/api/subflows', { flow_id: flowId, name: 'Falha', trigger_keywords: ['3'], order_index: 2 });
    await created('/api/flow-messages', {
      subflow_id: failing,
      message_text: 'Resultado: {{ocorrencia|sem ocorrência}} / {{action_error}}',
      wait_for_response: false,
      order_index: 0,
      actions: [{ type: 'pontta.create_occurrence', title: 'INVALID {{contact_name}}', note: '', save_result_as: 'ocorrencia' }],
    });
    await created('/api/flow-messages', { subflow_id: failing, message_text: 'Mais alguma coisa?', order_index: 1 });
    const notice = await created('/api/subflows', { flow_id: flowId, name: 'Aviso', trigger_keywords: ['4'], order_index: 3 });
    await created('/api/flow-messages', { subflow_id: notice, message_text: 'Um momento, registrando...', wait_for_response: false, delay_seconds: 1, order_index: 0 });
    await created('/api/flow-messages', {
      subflow_id: notice,
      message_text: 'Registrado: {{ocorrencia}}',
      wait_for_response: false,
      order_index: 1,
      actions: [{ type: 'pontta.create_occurrence', title: 'Aviso', note: '', save_result_as: 'ocorrencia' }],
    });
    await created('/api/flow-messages', { subflow_id: notice, message_text: 'Mais?', order_index: 2 });
  });

  after(async () => {
    await service?.stop();
    await Promise.all([gosac?.stop(), pontta?.stop(), google?.stop()]);
    await testDb?.drop();
    await rm(filesDir, { recursive: true, force: true });
  });

  /** Drives a contact to the file prompt; answers the contact and ticket. */
  async function toFilePrompt(order: string) {
    nextContact += 1;
    const sender = { contactId: nextContact, name: 'Maria Souza', number: `55119${nextContact}` };
    const ticket = sender.contactId + 100_000;
    await webhook(textMessage(sender, 'oi'));
    await gosac.waitForMessages(`/messages/${ticket}`, 1);
    await webhook(textMessage(sender, '2'));
    await gosac.waitForMessages(`/messages/${ticket}`, 2);
    await webhook(textMessage(sender, order));
    await gosac.waitForMessages(`/messages/${ticket}`, 3);
    return { sender, ticket };
  }

  function pdfMessage(sender: { contactId: number; name: string; number: string }, name: string, bytes: Buffer) {
    const payload = fileMessage(sender, name);
    payload.data.mediaUrl = gosac.serveMedia(`/media/${sender.contactId}/${name}`, { body: bytes, contentType: 'application/pdf' });
    return payload;
  }

  it('opens the occurrence, attaches the file, uploads it to the contact\'s folder, appends the row and says the number', async () => {
    // The Google token endpoint is down at first: the action is retried until it answers.
    google.failNext('/token', 2, 503);
    const { sender, ticket } = await toFilePrompt('4521');
    const bytes = randomBytes(300_000);
    await webhook(pdfMessage(sender, 'laudo.pdf', bytes));
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 5, 30_000);
    expect(replies.slice(3).map((r) => r.body.body)).to.deep.equal(['Ocorrência nº 981 aberta.', 'Algo mais? (ocorrência 981)']);

    // The media came from GOSAC with GOSAC's own Authorization header.
    const media = gosac.mediaRequests.filter((r) => r.path === `/media/${sender.contactId}/laudo.pdf`);
    expect(media).to.have.length(1);
    expect(media[0]!.headers['authorization']).to.equal(`INTEGRATION ${GOSAC_SECRET}`);
    const file = await testDb.db('received_files').where({ contact_id: sender.contactId }).first();
    expect(file).to.include({ file_name: 'laudo.pdf', mime_type: 'application/pdf', download_status: 'stored' });
    expect(Number(file.file_size_bytes)).to.equal(bytes.length);
    expect(await readFile(path.join(filesDir, file.storage_key))).to.deep.equal(bytes);

    // Pontta: one login, the order looked up, one occurrence linked to it, the attachment's bytes.
    expect(pontta.tokens).to.have.length(1);
    expect(pontta.ok('/api/sales-orders/summary')[0]!.query.get('q')).to.equal('4521');
    expect(pontta.occurrences).to.have.length(1);
    expect(pontta.occurrences[0]!.body).to.deep.equal({
      type: 'OCCURRENCE',
      title: 'Assistência - Maria Souza',
      note: 'Pedido 4521',
      salesOrderCode: '4521',
      salesOrderId: '5521',
    });
    for (const request of pontta.requests.filter((r) => r.path !== '/api/authenticate')) {
      expect(request.headers['authorization']).to.equal(`Bearer ${pontta.tokens[0]}`);
      expect(request.headers['businessunit']).to.equal(pontta.businessUnit);
    }
    expect(pontta.attachments).to.have.length(1);
    expect(pontta.attachments[0]).to.include({ occurrenceId: '981', filename: 'laudo.pdf', contentType: 'application/pdf' });
    expect(pontta.attachments[0]!.bytes.equals(bytes)).to.equal(true);

    // Google: token retried, one folder `<number> <name>` under the configured one, the file in it, the row.
    expect(google.requests.filter((r) => r.path === '/token' && r.status === 503)).to.have.length(2);
    expect(google.folders).to.deep.equal([{ id: google.folders[0]!.id, name: `${sender.number} Maria Souza`, parents: [DRIVE_FOLDER] }]);
    expect(google.files).to.have.length(1);
    expect(google.files[0]).to.include({ name: 'laudo.pdf', mimeType: 'application/pdf' });
    expect(google.files[0]!.parents).to.deep.equal([google.folders[0]!.id]);
    expect(google.files[0]!.bytes.equals(bytes)).to.equal(true);
    expect(google.rows).to.deep.equal([{ spreadsheetId: SHEET, range: 'Assistência!A1', values: [[sender.number, '4521', '981']] }]);
    expect((await testDb.db('received_files').where({ id: file.id }).first()).drive_file_id).to.equal(google.files[0]!.id);
    expect(pontta.violations).to.deep.equal([]);
    expect(google.violations).to.deep.equal([]);
  });

  it('keeps inputs that arrive while actions run and answers them afterwards, in order (503 ×3: one occurrence)', async () => {
    const { sender, ticket } = await toFilePrompt('777');
    const before = pontta.occurrences.length;
    pontta.failNext('/api/occurrences', 3, 503);
    await webhook(pdfMessage(sender, 'foto.pdf', randomBytes(1000)));
    await webhook(textMessage(sender, 'obrigado'));
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 6, 30_000);
    const id = pontta.occurrences[before]!.id;
    expect(replies.slice(3).map((r) => r.body.body)).to.deep.equal([
      `Ocorrência nº ${id} aberta.`,
      `Algo mais? (ocorrência ${id})`,
      // "obrigado" reached the menu only after the actions: the menu's prompt again.
      `Algo mais? (ocorrência ${id})`,
    ]);
    expect(pontta.occurrences.length - before).to.equal(1);
    expect(pontta.requests.filter((r) => r.path === '/api/occurrences' && r.status === 503)).to.have.length(3);
    // The second Drive upload went into the same contact folder scheme, one folder per contact.
    expect(google.folders.filter((f) => f.name === `${sender.number} Maria Souza`)).to.have.length(1);
  });

  it('authenticates once more and calls once more when Pontta answers 401', async () => {
    const { sender, ticket } = await toFilePrompt('888');
    const tokensBefore = pontta.tokens.length;
    const before = pontta.occurrences.length;
    pontta.expireTokenOnce();
    await webhook(pdfMessage(sender, 'nota.pdf', randomBytes(500)));
    await gosac.waitForMessages(`/messages/${ticket}`, 5, 30_000);
    expect(pontta.tokens.length - tokensBefore).to.equal(1);
    expect(pontta.occurrences.length - before).to.equal(1);
    expect(pontta.requests.filter((r) => r.status === 401)).to.have.length(1);
    expect(repliesTo(ticket)[3]).to.equal(`Ocorrência nº ${pontta.occurrences[before]!.id} aberta.`);
  });

  it('repeats a call at most once when the worker dies between the call and its record', async () => {
    const { sender, ticket } = await toFilePrompt('999');
    const before = pontta.occurrences.length;
    crashNextRecord = true;
    await webhook(pdfMessage(sender, 'crash.pdf', randomBytes(500)));
    await gosac.waitForMessages(`/messages/${ticket}`, 5, 30_000);
    // The documented window: the first call reached Pontta, its record did not happen; after the
    // lease ran out the run was claimed again (counted as uncertain) and called once more.
    expect(pontta.occurrences.length - before).to.equal(2);
    const second = pontta.occurrences[before + 1]!.id;
    expect(repliesTo(ticket)[3]).to.equal(`Ocorrência nº ${second} aberta.`);
    const run = await testDb.db('action_runs').where({ contact_id: sender.contactId, action_type: 'pontta.create_occurrence' }).first();
    expect(run).to.include({ status: 'succeeded', result: String(second), uncertain_attempts: 1, attempts: 2 });
  });

  it('goes on with {{action_error}} after a 400, lists the failure and re-runs it on request', async () => {
    nextContact += 1;
    const sender = { contactId: nextContact, name: 'Ana', number: `55119${nextContact}` };
    const ticket = sender.contactId + 100_000;
    await webhook(textMessage(sender, 'oi'));
    await gosac.waitForMessages(`/messages/${ticket}`, 1);
    await webhook(textMessage(sender, '3'));
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 3, 30_000);
    expect(replies[1]!.body.body).to.match(/^Resultado: sem ocorrência \/ Pontta occurrence answered 400/);
    expect(replies[2]!.body.body).to.equal('Mais alguma coisa?');
    const failed = await admin('GET', `/api/actions?status=failed&contact_id=${sender.contactId}`);
    expect(failed.status).to.equal(200);
    expect(failed.body).to.have.length(1);
    expect(failed.body[0]).to.include({ action_type: 'pontta.create_occurrence', status: 'failed', attempts: 1 });
    expect(failed.body[0].last_error).to.match(/answered 400/);
    expect(failed.headers.get('x-total-count')).to.equal('1');
    const retried = await admin('POST', `/api/actions/${failed.body[0].id}/retry`);
    expect(retried).to.deep.include({ status: 200, body: { id: failed.body[0].id, status: 'pending' } });
    expect((await admin('POST', `/api/actions/${failed.body[0].id}/retry`)).status).to.equal(409);
    await eventually(async () => {
      const [run] = (await admin('GET', `/api/actions?contact_id=${sender.contactId}`)).body;
      expect(run).to.include({ status: 'failed', attempts: 1 });
      expect(run.finished_at).to.not.equal(failed.body[0].finished_at);
    });
    expect(repliesTo(ticket)).to.have.length(3);
    expect((await admin('POST', '/api/actions/999999999/retry')).status).to.equal(404);
  });

  it('refuses a 60 MB file politely and keeps nothing of it', async () => {
    const { sender, ticket } = await toFilePrompt('6060');
    const payload = fileMessage(sender, 'enorme.pdf');
    // No Content-Length: only counting the bytes as they stream finds it too large.
    payload.data.mediaUrl = gosac.serveMedia(`/media/${sender.contactId}/enorme.pdf`, { size: 60 * 1024 * 1024, contentType: 'application/pdf', announceLength: false });
    await webhook(payload);
    await eventually(async () => {
      expect(repliesTo(ticket).some((text) => text.includes('grande demais') && text.includes('50 MB'))).to.equal(true);
    }, 30_000);
    const file = await testDb.db('received_files').where({ contact_id: sender.contactId }).first();
    expect(file).to.include({ download_status: 'too_large', storage_key: null });
    const contactDir = path.join(filesDir, String(sender.contactId));
    expect(await readdir(contactDir).catch(() => [])).to.deep.equal([]);
  });

  it('holds an outcome while an agent has the conversation, and feeds it on resume', async () => {
    const { sender, ticket } = await toFilePrompt('5050');
    const conversation = (await admin('GET', `/api/conversations?contact_id=${sender.contactId}`)).body[0];
    // Pontta is busy long enough for the agent to take over while the occurrence is pending.
    pontta.failNext('/api/occurrences', 4, 503);
    await webhook(pdfMessage(sender, 'pausa.pdf', randomBytes(100)));
    await eventually(async () => {
      const runs = (await admin('GET', `/api/actions?contact_id=${sender.contactId}`)).body;
      expect(runs.some((run: any) => run.action_type === 'pontta.create_occurrence')).to.equal(true);
    });
    expect((await admin('POST', `/api/conversations/${conversation.id}/pause`)).status).to.equal(200);
    await eventually(async () => {
      const runs = (await admin('GET', `/api/actions?contact_id=${sender.contactId}&status=pending`)).body;
      expect(runs).to.deep.equal([]);
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(repliesTo(ticket)).to.have.length(3);
    expect((await admin('POST', `/api/conversations/${conversation.id}/resume`)).status).to.equal(200);
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 5, 30_000);
    expect(replies[3]!.body.body).to.match(/^Ocorrência nº \d+ aberta\.$/);
  });

  it('accepts a file by the MIME type GOSAC sends when its path has no extension', async () => {
    const { sender, ticket } = await toFilePrompt('3030');
    const payload = fileMessage(sender, 'c0ffee', 'segue o laudo');
    payload.data.mimetype = 'application/pdf';
    payload.data.mediaUrl = gosac.serveMedia(`/media/${sender.contactId}/c0ffee`, { body: Buffer.from('%PDF'), contentType: 'application/octet-stream' });
    await webhook(payload);
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 5, 30_000);
    expect(replies[3]!.body.body).to.match(/^Ocorrência nº \d+ aberta\.$/);
    const file = await testDb.db('received_files').where({ contact_id: sender.contactId }).first();
    expect(file).to.include({ mime_type: 'application/pdf', download_status: 'stored' });
  });

  it('sends a delayed message queued before the actions: an outcome supersedes nothing', async () => {
    nextContact += 1;
    const sender = { contactId: nextContact, name: 'Ana', number: `55119${nextContact}` };
    const ticket = sender.contactId + 100_000;
    await webhook(textMessage(sender, 'oi'));
    await gosac.waitForMessages(`/messages/${ticket}`, 1);
    await webhook(textMessage(sender, '4'));
    const replies = await gosac.waitForMessages(`/messages/${ticket}`, 4, 30_000);
    expect(replies.slice(1).map((r) => String(r.body.body).replace(/\d+$/, 'N'))).to.deep.equal(['Um momento, registrando...', 'Registrado: N', 'Mais?']);
  });

  it('writes no credential into the log', async () => {
    const log = logLines.join('\n');
    expect(log).to.include('action done'); // the executor's lines are in the capture
    const secrets = [
      GOSAC_SECRET,
      pontta.password,
      ...pontta.tokens,
      ...google.accessTokens,
      ...google.privateKey.split('\n').filter((line) => line.length > 40),
    ];
    for (const secret of secrets) expect(log.includes(secret), `a secret is in the log: ${secret.slice(0, 12)}…`).to.equal(false);
  });
});
