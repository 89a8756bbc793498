// SPEC §9: the /inspect page, in a real (headless) chromium. Screenshots go to test/artifacts/.
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { artifactsFolder, launchChromium } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';

describe('the /inspect page in a browser (SPEC §9)', function () {
  this.timeout(90_000);
  let service: TestService;
  let browser: Browser;
  let flow: BuiltFlow;
  let nextContact = 4_500;

  before(async () => {
    service = await startTestService();
    flow = await buildFlowThroughApi(service, [
      {
        name: 'Boas-vindas',
        keywords: ['menu', 'início'],
        messages: [{ text: 'Olá! Bem-vindo(a) à nossa loja.', waitForResponse: false }, { text: 'Como podemos ajudar? 1 - Orçamento, 2 - Assistência' }],
      },
      {
        name: 'Orçamento',
        keywords: ['1', 'orçamento'],
        messages: [
          { text: 'Qual ambiente você quer mobiliar?', saveResponseAs: 'ambiente' },
          { text: 'Envie o projeto em PDF ou DWG.', waitForResponse: false, waitForFile: true, expectedFileTypes: ['pdf', 'dwg'] },
          { text: 'Projeto recebido! Em breve retornamos.', waitForResponse: false },
        ],
      },
      { name: 'Assistência', keywords: ['2', 'assistência'], parent: 'Boas-vindas', messages: [{ text: 'Número do pedido?', saveResponseAs: 'pedido' }] },
    ]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await service?.stop();
    await service?.testDb.drop();
  });

  async function startConversation(): Promise<{ contactId: number; conversationId: number }> {
    nextContact += 1;
    const contactId = nextContact;
    expect((await service.webhook(textMessage({ contactId }, 'oi'))).status).to.equal(200);
    let conversationId = 0;
    await eventually(async () => {
      const row = await service.testDb.db('user_conversations').where({ contact_id: contactId, is_active: true }).first('id', 'conversation_state');
      expect(row?.conversation_state?.value).to.be.an('object');
      conversationId = Number(row.id);
    });
    return { contactId, conversationId };
  }

  /** Collects every request that leaves for anywhere but the service, and every page error. */
  function watchTraffic(page: Page) {
    const external: string[] = [];
    const errors: string[] = [];
    const check = (url: string) => {
      const { hostname, protocol } = new URL(url);
      if (protocol !== 'data:' && hostname !== '127.0.0.1') external.push(url);
    };
    page.on('request', (request) => check(request.url()));
    page.on('websocket', (socket) => check(socket.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return { external, errors };
  }

  it('draws the selected conversation and moves aria-current="step" live, without a reload', async () => {
    const { contactId, conversationId } = await startConversation();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const traffic = watchTraffic(page);
    await page.goto(`${service.url}/inspect?token=${TEST_ADMIN_TOKEN}`);
    expect(page.url(), 'the token leaves the address bar').to.not.include('token=');
    await page.click(`button[data-conversation-id="${conversationId}"]`);

    const menu = `msg_${flow.messageIds['Boas-vindas']![1]}`;
    await page.waitForSelector(`[data-state-id="${menu}"][aria-current="step"]`, { timeout: 20_000 });
    // Every subflow is a group and every message a state.
    for (const id of Object.values(flow.subflowIds)) expect(await page.locator(`g.subflow[data-state-id="sf_${id}"]`).count()).to.equal(1);
    for (const id of Object.values(flow.messageIds).flat()) expect(await page.locator(`g.state[data-state-id="msg_${id}"]`).count()).to.equal(1);
    const labels = await page.locator('.edge-label text').allTextContents();
    expect(labels).to.include('file: pdf, dwg');
    expect(labels.some((label) => label.startsWith('keywords:') && label.includes('orçamento'))).to.equal(true);
    expect(await page.locator('[aria-current="step"]').count()).to.equal(1);
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await page.screenshot({ path: path.join(artifactsFolder, 'inspect-before-step.png'), fullPage: true });

    expect((await service.webhook(textMessage({ contactId }, '1'))).status).to.equal(200);
    const ask = `msg_${flow.messageIds['Orçamento']![0]}`;
    await page.waitForSelector(`[data-state-id="${ask}"][aria-current="step"]`, { timeout: 20_000 });
    expect(await page.locator(`[data-state-id="${menu}"][aria-current="step"]`).count()).to.equal(0);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).to.equal(true);
    const log = await page.locator('#log li').allTextContents();
    expect(log.some((line) => line.includes('USER_INPUT') && line.includes('text hidden'))).to.equal(true);
    expect(log.some((line) => line.includes(ask))).to.equal(true);
    await page.screenshot({ path: path.join(artifactsFolder, 'inspect-after-step.png'), fullPage: true });

    expect(traffic.errors).to.deep.equal([]);
    expect(traffic.external).to.deep.equal([]);
    await page.close();
  });

  it('loads and draws with nothing but the service: every request goes to 127.0.0.1', async () => {
    const { conversationId } = await startConversation();
    const page = await browser.newPage();
    const traffic = watchTraffic(page);
    const blocked: string[] = [];
    // The network is cut for everything else: a request elsewhere would fail the drawing too.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    await page.goto(`${service.url}/inspect`);
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('#token-form button');
    await page.click(`button[data-conversation-id="${conversationId}"]`);
    await page.waitForSelector('[aria-current="step"]', { timeout: 20_000 });
    expect(blocked).to.deep.equal([]);
    expect(traffic.external).to.deep.equal([]);
    expect(traffic.errors).to.deep.equal([]);
    await page.close();
  });

  it('asks for the token: the page itself holds no data, its JSON refuses a missing token', async () => {
    const page = await fetch(`${service.url}/inspect`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    const html = await page.text();
    expect(html).to.not.match(/https?:\/\//i);
    expect((await fetch(`${service.url}/inspect/api/conversations`)).status).to.equal(401);
    const bridge = await fetch(`${service.url}/inspect/stately`);
    expect(bridge.status).to.equal(200);
    expect(await bridge.text()).to.include('https://stately.ai/inspect');
  });
});
