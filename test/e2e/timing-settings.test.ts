// MESSAGE_COOLDOWN and CONVERSATION_TIMEOUT_MINUTES at non-default values, through the real
// webhook, worker and database, observed only where a contact would notice them: what reaches
// the fake GOSAC and when. (Nothing here looks inside the engine, so it holds across rewrites.)
import { expect } from 'chai';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac, type RecordedRequest } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';

const GREETING = 'Olá, Maria Souza!';
const MENU = 'Escolha: 1 - orçamento, 2 - atendente';
const CHOSE_ONE = 'Você escolheu orçamento. Qual ambiente?';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const texts = (requests: readonly RecordedRequest[]) => requests.map((request) => request.body.body as string);

async function startWithFlow(gosac: FakeGosac, env: Record<string, string>): Promise<TestService> {
  const service = await startTestService({
    GOSAC_BASE_URL: gosac.url,
    GOSAC_AUTHORIZATION_KEY: 'INTEGRATION timing-test',
    ...env,
  });
  await buildFlowThroughApi(service, [
    {
      name: 'Início',
      messages: [{ text: 'Olá, {{contact_name}}!', waitForResponse: false }, { text: MENU }],
    },
    { name: 'Orçamento', keywords: ['1'], messages: [{ text: CHOSE_ONE, saveResponseAs: 'ambiente' }] },
  ]);
  return service;
}

async function say(service: TestService, contactId: number, text: string): Promise<void> {
  const response = await service.webhook(textMessage({ contactId }, text));
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
}

/** Exactly `expected` reached GOSAC for this ticket: waits for them, then for anything extra. */
async function expectExactly(gosac: FakeGosac, path: string, expected: string[]): Promise<RecordedRequest[]> {
  const received = await gosac.waitForMessages(path, expected.length, 20_000);
  await sleep(700);
  expect(texts(gosac.requestsTo(path))).to.deep.equal(expected);
  return received;
}

describe('timing settings end to end', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  const services: TestService[] = [];

  before(async () => {
    gosac = await startFakeGosac();
  });
  after(async () => {
    for (const service of services) {
      await service.stop();
      await service.testDb.drop();
    }
    await gosac?.stop();
  });

  it('MESSAGE_COOLDOWN=2: the reply to a new message reaches GOSAC at least 2 s after the previous reply', async () => {
    const service = await startWithFlow(gosac, { MESSAGE_COOLDOWN: '2' });
    services.push(service);
    const contactId = 93_001;
    const path = `/messages/${contactId + 100_000}`;

    await say(service, contactId, 'Oi');
    // One step's chain follows at once (its own delays, here none).
    const [greeting, menu] = await expectExactly(gosac, path, [GREETING, MENU]);
    expect(menu!.receivedAt - greeting!.receivedAt).to.be.below(1_500);

    await say(service, contactId, '1');
    const replies = await expectExactly(gosac, path, [GREETING, MENU, CHOSE_ONE]);
    const gap = replies[2]!.receivedAt - replies[1]!.receivedAt;
    // The cooldown counts from the previous reply's send time, a few ms before GOSAC recorded it.
    expect(gap, `gap between the two replies: ${gap} ms`).to.be.at.least(1_900);
    expect(gap, 'the reply waits out the cooldown, not much more').to.be.below(6_000);
    // "1" chose the option: with the default CONVERSATION_TIMEOUT_MINUTES the conversation went on.
  });

  it('CONVERSATION_TIMEOUT_MINUTES=0.02: after 1.2 s of silence the next message starts over with the greeting', async () => {
    const service = await startWithFlow(gosac, { CONVERSATION_TIMEOUT_MINUTES: '0.02', MESSAGE_COOLDOWN: '0' });
    services.push(service);
    const contactId = 93_002;
    const path = `/messages/${contactId + 100_000}`;

    await say(service, contactId, 'Oi');
    await expectExactly(gosac, path, [GREETING, MENU]);

    // More than 0.02 min (1.2 s) of silence: "1" is the first message of a new conversation, so it
    // is greeted; within the timeout it would have chosen the first option.
    await sleep(2_000);
    await say(service, contactId, '1');
    await expectExactly(gosac, path, [GREETING, MENU, GREETING, MENU]);
  });
});
