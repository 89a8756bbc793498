// SPEC §10 end to end, through the webhook, the worker's loops and a fake GOSAC, with
// second-scale timers (0.05 min = 3 s). Exact replies are asserted, then a quiet period shows
// nothing extra arrived.
import { expect } from 'chai';
import { startFakeGosac, type FakeGosac, type RecordedRequest } from '../support/fake-gosac.js';
import { eventually } from '../support/eventually.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';
import {
  AGENT,
  ASK_ROOM,
  buildAttendantFlow,
  CLOSE_TEXT,
  HELP,
  MENU,
  OUT_OF_HOURS,
  REMINDER,
} from '../support/attendant-flow.js';

const GREETING = 'Olá, Maria Souza!';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const texts = (requests: readonly RecordedRequest[]) => requests.map((request) => request.body.body as string);
const pathOf = (contactId: number) => `/messages/${contactId + 100_000}`;

/** Today's date in São Paulo, as BUSINESS_HOURS holidays name it. */
function saoPauloToday(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Sao_Paulo' }).format(new Date());
}
const allDay = [['00:00', '24:00']];
const openAllWeek = { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay };

describe('good attendant: reminders, closing, business hours, re-prompt limit, hand-off (SPEC §10)', function () {
  this.timeout(90_000);
  let gosac: FakeGosac;
  let service: TestService;
  let nextContact = 95_000;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION attendant' });
    await buildAttendantFlow(service, { reminder: 0.05, close: 0.1 });
    // Open around the clock unless a test says otherwise.
    const hours = await service.admin('PUT', '/api/settings/BUSINESS_HOURS', {
      value: { timezone: 'America/Sao_Paulo', week: openAllWeek, holidays: [] },
    });
    expect(hours.status, JSON.stringify(hours.body)).to.equal(200);
  });
  after(async () => {
    await service?.stop();
    await service?.testDb.drop();
    await gosac?.stop();
  });

  async function say(contactId: number, text: string, edit?: (payload: any) => void): Promise<string> {
    const payload = textMessage({ contactId }, text);
    edit?.(payload);
    const response = await service.webhook(payload);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body.status as string;
  }

  async function expectExactly(contactId: number, expected: string[], quietMs = 800): Promise<RecordedRequest[]> {
    const received = await gosac.waitForMessages(pathOf(contactId), expected.length, 20_000);
    await sleep(quietMs);
    expect(texts(gosac.requestsTo(pathOf(contactId)))).to.deep.equal(expected);
    return received;
  }

  it('sends the reminder once after silence on the menu, then closes the conversation with its text', async () => {
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    const [, menu] = await expectExactly(contactId, [GREETING, MENU], 100);
    const [, , reminder, close] = await expectExactly(contactId, [GREETING, MENU, REMINDER, CLOSE_TEXT], 3_500);
    // 3 s and 6 s after the menu went out, within the 2 s precision.
    expect(reminder!.receivedAt - menu!.receivedAt).to.be.within(2_500, 5_000);
    expect(close!.receivedAt - menu!.receivedAt).to.be.within(5_500, 8_000);
    const conversation = await service.testDb.db('user_conversations').where({ contact_id: contactId }).first();
    expect(conversation).to.include({ is_active: false, is_completed: false, closed_reason: 'inactivity' });
    // The next message starts over.
    await say(contactId, 'Oi de novo');
    await expectExactly(contactId, [GREETING, MENU, REMINDER, CLOSE_TEXT, GREETING, MENU], 100);
  });

  it('sends no reminder after an answer; the silence after it still closes the conversation', async () => {
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    await say(contactId, '1');
    const [, , room] = await expectExactly(contactId, [GREETING, MENU, ASK_ROOM], 4_000);
    const all = await expectExactly(contactId, [GREETING, MENU, ASK_ROOM, CLOSE_TEXT], 1_000);
    expect(all[3]!.receivedAt - room!.receivedAt).to.be.within(5_500, 8_000);
  });

  it('any input restarts the silence: a re-prompt on the menu puts the reminder 3 s after it', async () => {
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    await sleep(2_000);
    await say(contactId, 'hã?');
    const [, , reprompt] = await expectExactly(contactId, [GREETING, MENU, MENU], 0);
    const [, , , reminder] = await gosac.waitForMessages(pathOf(contactId), 4, 10_000);
    expect(reminder!.body.body).to.equal(REMINDER);
    expect(reminder!.receivedAt - reprompt!.receivedAt).to.be.within(2_500, 5_000);
  });

  it('the third invalid answer in a row goes to the fallback subflow', async () => {
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    await say(contactId, 'banana');
    await expectExactly(contactId, [GREETING, MENU, MENU], 0);
    await say(contactId, 'laranja');
    await expectExactly(contactId, [GREETING, MENU, MENU, MENU], 0);
    await say(contactId, 'uva');
    await expectExactly(contactId, [GREETING, MENU, MENU, MENU, HELP], 300);
  });

  it('out of hours (a holiday in America/Sao_Paulo), "atendente" goes to the out-of-hours subflow', async () => {
    const holiday = await service.admin('PUT', '/api/settings/BUSINESS_HOURS', {
      value: { timezone: 'America/Sao_Paulo', week: openAllWeek, holidays: [saoPauloToday()] },
    });
    expect(holiday.status).to.equal(200);
    try {
      const contactId = (nextContact += 1);
      await say(contactId, 'Oi');
      await expectExactly(contactId, [GREETING, MENU], 0);
      await say(contactId, 'quero falar com atendente');
      await expectExactly(contactId, [GREETING, MENU, OUT_OF_HOURS], 300);
      // The out-of-hours subflow has no parent: the conversation completed, nobody paused it.
      const conversation = await service.testDb.db('user_conversations').where({ contact_id: contactId }).first();
      expect(conversation).to.include({ is_active: false, is_completed: true, bot_paused_at: null });
    } finally {
      await service.admin('PUT', '/api/settings/BUSINESS_HOURS', {
        value: { timezone: 'America/Sao_Paulo', week: openAllWeek, holidays: [] },
      });
    }
  });

  it('in hours, "atendente" hands off: the bot pauses, answers nothing, and resumes after HANDOFF_RESUME_MINUTES', async () => {
    await service.admin('PUT', '/api/settings/HANDOFF_RESUME_MINUTES', { value: 0.05 });
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    await say(contactId, '2');
    await expectExactly(contactId, [GREETING, MENU, AGENT], 0);
    const paused = await service.testDb.db('user_conversations').where({ contact_id: contactId, is_active: true }).first();
    expect(paused.bot_paused_at).to.not.equal(null);
    await say(contactId, 'alô?');
    await sleep(1_000);
    expect(texts(gosac.requestsTo(pathOf(contactId)))).to.deep.equal([GREETING, MENU, AGENT]);
    // 3 s of agent silence: the hold ends; the next message starts over on the default flow.
    await eventually(async () => {
      const row = await service.testDb.db('user_conversations').where({ id: paused.id }).first();
      expect(row).to.include({ is_active: false, closed_reason: 'handoff_ended' });
    }, 8_000);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU, AGENT, GREETING, MENU], 300);
  });

  it("an agent's fromMe reply pauses the bot; the bot's own echoes (whitespace changed) do not", async () => {
    await service.admin('PUT', '/api/settings/HANDOFF_RESUME_MINUTES', { value: 240 });
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    const echo = await say(contactId, `  ${MENU.replace(' - ', '  -\n')} `, (payload) => {
      payload.data.fromMe = true;
    });
    expect(echo).to.equal('ignored - from bot');
    let row = await service.testDb.db('user_conversations').where({ contact_id: contactId, is_active: true }).first();
    expect(row.bot_paused_at).to.equal(null);

    const agent = await say(contactId, 'Oi Maria, aqui é a Ana. Posso ajudar?', (payload) => {
      payload.data.fromMe = true;
    });
    expect(agent).to.equal('ignored - agent replied');
    row = await service.testDb.db('user_conversations').where({ contact_id: contactId, is_active: true }).first();
    expect(row.bot_paused_at).to.not.equal(null);
    // Paused: the menu's reminder is dropped and the contact's answer gets no reply.
    await say(contactId, '1');
    await sleep(4_000);
    expect(texts(gosac.requestsTo(pathOf(contactId)))).to.deep.equal([GREETING, MENU]);
  });

  it('a webhook showing the ticket closed ends the hold: that message starts over', async () => {
    await service.admin('PUT', '/api/settings/HANDOFF_RESUME_MINUTES', { value: 240 });
    const contactId = (nextContact += 1);
    await say(contactId, 'Oi');
    await expectExactly(contactId, [GREETING, MENU], 0);
    expect(await say(contactId, 'Aqui é o João, do atendimento.', (payload) => (payload.data.fromMe = true))).to.equal('ignored - agent replied');
    await say(contactId, 'ok, obrigado');
    await sleep(800);
    expect(texts(gosac.requestsTo(pathOf(contactId)))).to.deep.equal([GREETING, MENU]);
    await say(contactId, 'Oi de novo', (payload) => (payload.data.ticket.status = 'closed'));
    await expectExactly(contactId, [GREETING, MENU, GREETING, MENU], 300);
    const ended = await service.testDb.db('user_conversations').where({ contact_id: contactId, closed_reason: 'ticket_closed' });
    expect(ended).to.have.length(1);
  });

  it('an input racing a due timer gives one consistent outcome for every contact', async () => {
    const contacts = Array.from({ length: 8 }, () => (nextContact += 1));
    for (const contactId of contacts) await say(contactId, 'Oi');
    const menus = await Promise.all(contacts.map((contactId) => gosac.waitForMessages(pathOf(contactId), 2, 10_000)));
    // Answer each menu right when its reminder comes due (3 s after it went out).
    await Promise.all(
      contacts.map(async (contactId, index) => {
        const wait = menus[index]![1]!.receivedAt + 3_000 - Date.now() + (index % 4) * 40 - 60;
        await sleep(Math.max(0, wait));
        await say(contactId, '1');
      }),
    );
    await sleep(2_000);
    for (const contactId of contacts) {
      const got = texts(gosac.requestsTo(pathOf(contactId)));
      // Either the reminder fired first and the answer followed, or the answer won: never a
      // reminder after the answer, never two answers.
      expect([
        [GREETING, MENU, ASK_ROOM],
        [GREETING, MENU, REMINDER, ASK_ROOM],
      ]).to.deep.include(got);
    }
    const timers = await service.testDb.db('conversation_timers')
      .whereIn('contact_id', contacts)
      .andWhere('send_id', 'like', '%msg_%')
      .select('contact_id', 'status', 'outcome');
    for (const contactId of contacts) {
      const fired = timers.filter((timer: any) => Number(timer.contact_id) === contactId && timer.status === 'fired');
      expect(fired.length, `contact ${contactId}: ${JSON.stringify(timers)}`).to.be.at.most(1);
    }
  });
});
