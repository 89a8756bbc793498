// SPEC §9 acceptance: a viewer on one replica (ROLE=web) sees the steps of a conversation driven
// through the webhook of another replica (ROLE=both), over real Redis (REDIS_URL, or a
// redis-server child of this test: it never skips).
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { eventually } from '../support/eventually.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { redisChild, type RedisChild } from '../support/redis-server.js';
import { freePort, PROCESS_ADMIN_TOKEN, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';

interface Frame {
  type: string;
  sessionId?: string;
  rootId?: string;
  createdAt?: string;
  id?: string;
  _version?: string;
  definition?: string;
  snapshot?: { status: string; value: unknown; context: any };
  event?: Record<string, unknown>;
  count?: number;
}

/** A WebSocket viewer that keeps every frame it gets. */
class Viewer {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      this.raw.push(text);
      this.frames.push(JSON.parse(text) as Frame);
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<Viewer> {
    const socket = new WebSocket(url, { headers });
    const viewer = new Viewer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
    return viewer;
  }

  async waitFor(predicate: (frames: Frame[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The HTTP status a refused upgrade answers with. */
async function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const socket = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', () => undefined);
  });
}

describe('live inspection across replicas (SPEC §9)', function () {
  this.timeout(120_000);
  let redis: RedisChild | undefined;
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let web: ServiceProcess;
  let worker: ServiceProcess;
  let flow: BuiltFlow;
  const viewers: Viewer[] = [];

  const adminOf = (service: ServiceProcess) => ({
    async admin(method: string, path: string, body?: unknown) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
  });
  const wsUrl = (query: string) => `${web.url.replace('http', 'ws')}/inspect/ws?${query}`;
  const watch = async (query: string) => {
    const viewer = await Viewer.open(wsUrl(`token=${PROCESS_ADMIN_TOKEN}&${query}`));
    viewers.push(viewer);
    return viewer;
  };
  const say = async (contact: { contactId: number; number: string }, text: string) => {
    const response = await fetch(`${worker.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage({ ...contact, name: 'Maria Souza' }, text)),
    });
    expect(response.status).to.equal(200);
  };
  const activeConversation = async (contactId: number) => {
    let found: { id: number; flow_version_id: number } | undefined;
    await eventually(async () => {
      found = (await testDb.db('user_conversations').where({ contact_id: contactId, is_active: true }).first('id', 'flow_version_id')) as typeof found;
      expect(found, `conversation of contact ${contactId}`).to.not.equal(undefined);
    }, 15_000);
    return { id: Number(found!.id), versionId: Number(found!.flow_version_id) };
  };

  before(async () => {
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      redis = redisChild(await freePort());
      await redis.start();
      redisUrl = redis.url;
    }
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    const env = {
      DATABASE_URL: testDb.url,
      REDIS_URL: redisUrl,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test',
      DEBOUNCE_TIME: '0',
      MESSAGE_COOLDOWN: '0',
      WORKER_POLL_INTERVAL_MS: '100',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    };
    [web, worker] = await Promise.all([startServiceProcess({ ...env, ROLE: 'web' }), startServiceProcess({ ...env, ROLE: 'both' })]);
    flow = await buildFlowThroughApi(adminOf(worker), [
      { name: 'Boas-vindas', keywords: ['menu'], messages: [{ text: 'Olá!', waitForResponse: false }, { text: 'Menu: 1 - Orçamento' }] },
      {
        name: 'Orçamento',
        keywords: ['1'],
        messages: [{ text: 'Qual ambiente?', saveResponseAs: 'ambiente' }, { text: 'Anotado: {{ambiente}}. Algo mais?' }],
      },
    ]);
  });

  after(async () => {
    for (const viewer of viewers) viewer.close();
    await Promise.all([web?.stop(), worker?.stop()]);
    await gosac?.stop();
    await testDb?.drop();
    await redis?.kill();
  });

  it('refuses a viewer without the admin token with 401, before the upgrade', async () => {
    expect(await refusedStatus(wsUrl(''))).to.equal(401);
    expect(await refusedStatus(wsUrl('token=wrong'))).to.equal(401);
    expect(await refusedStatus(wsUrl(''), { authorization: 'Bearer wrong' })).to.equal(401);
    const viewer = await Viewer.open(wsUrl('conversation=999999'), { authorization: `Bearer ${PROCESS_ADMIN_TOKEN}` });
    viewers.push(viewer);
    expect(viewer.socket.readyState).to.equal(WebSocket.OPEN);
  });

  it('gives a late joiner the current snapshot, then every committed step made on the other replica', async () => {
    const contact = { contactId: 4_401, number: '5511987654321' };
    await say(contact, 'oi');
    const conversation = await activeConversation(contact.contactId);
    const menuState = { [`sf_${flow.subflowIds['Boas-vindas']}`]: `msg_${flow.messageIds['Boas-vindas']![1]}` };
    await eventually(async () => {
      const row = await testDb.db('user_conversations').where({ id: conversation.id }).first('conversation_state');
      expect(row.conversation_state.value).to.deep.equal(menuState);
    });

    const viewer = await watch(`contact=${contact.contactId}`);
    await viewer.waitFor((frames) => frames.length >= 1, 'the @xstate.actor frame');
    const [actor] = viewer.frames;
    const sessionId = `conversation:${conversation.id}`;
    expect(actor).to.include({ type: '@xstate.actor', sessionId, rootId: sessionId, _version: '0.7.2' });
    expect(actor!.createdAt).to.be.a('string');
    expect(actor!.id).to.be.a('string');
    // The snapshot as stored, never the machine's initial state.
    expect(actor!.snapshot).to.deep.include({ status: 'active', value: menuState });
    const pinned = await testDb.db('flow_versions').where({ id: conversation.versionId }).first('machine_config');
    expect(JSON.parse(actor!.definition!)).to.deep.equal(pinned.machine_config);
    const machine = await adminOf(web).admin('GET', `/api/flows/${flow.flowId}/machine`);
    expect(JSON.parse(actor!.definition!)).to.deep.equal(machine.body);

    await say(contact, '1');
    await viewer.waitFor((frames) => frames.length >= 3, 'the first step');
    const askState = { [`sf_${flow.subflowIds['Orçamento']}`]: `msg_${flow.messageIds['Orçamento']![0]}` };
    expect(viewer.frames[1]).to.deep.include({ type: '@xstate.event', sessionId, rootId: sessionId });
    expect(viewer.frames[1]!.event).to.include({ type: 'USER_INPUT' });
    expect(viewer.frames[2]).to.include({ type: '@xstate.snapshot', sessionId, rootId: sessionId });
    expect(viewer.frames[2]!.snapshot!.value).to.deep.equal(askState);

    const secret = 'cozinha planejada do terceiro andar';
    await say(contact, secret);
    await viewer.waitFor((frames) => frames.length >= 5, 'the second step');
    const notedState = { [`sf_${flow.subflowIds['Orçamento']}`]: `msg_${flow.messageIds['Orçamento']![1]}` };
    expect(viewer.frames.slice(3).map((frame) => frame.type)).to.deep.equal(['@xstate.event', '@xstate.snapshot']);
    expect(viewer.frames[4]!.snapshot!.value).to.deep.equal(notedState);
    // The variable is there, its value is not; the number keeps its last 4 digits.
    expect(viewer.frames[4]!.snapshot!.context.variables).to.have.property('ambiente').that.does.not.include('cozinha');
    expect(viewer.frames[4]!.snapshot!.context.contact.number).to.match(/4321$/);

    const everything = viewer.raw.join('\n');
    expect(everything).to.not.include(contact.number);
    expect(everything).to.not.include(secret);
    expect(everything).to.not.include('Maria Souza');
    expect(new Set(viewer.frames.map((frame) => frame.sessionId))).to.deep.equal(new Set([sessionId]));
  });

  it('announces a conversation that starts while watching with its actor, then its steps', async () => {
    const contact = { contactId: 4_402, number: '5521912345678' };
    const viewer = await watch(`flow=${flow.flowId}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = viewer.frames.length;
    await say(contact, 'bom dia, quero um orçamento');
    const conversation = await activeConversation(contact.contactId);
    const sessionId = `conversation:${conversation.id}`;
    const mine = () => viewer.frames.filter((frame) => frame.sessionId === sessionId);
    await viewer.waitFor(() => mine().length >= 3, 'the new conversation');
    expect(mine().map((frame) => frame.type)).to.deep.equal(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
    expect(JSON.parse(mine()[0]!.definition!)).to.have.property('id', `flow_${flow.flowId}`);
    expect(mine()[2]!.snapshot!.value).to.deep.equal({ [`sf_${flow.subflowIds['Boas-vindas']}`]: `msg_${flow.messageIds['Boas-vindas']![1]}` });
    const everything = viewer.raw.slice(before).join('\n');
    expect(everything).to.not.include(contact.number);
    expect(everything).to.not.include('quero um orçamento');
  });
});
