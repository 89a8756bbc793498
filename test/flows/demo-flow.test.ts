import { expect } from 'chai';
import { compileFlow, resumeWithActionResult, startConversation, stepConversation, validateFlow } from '../../machines/index.js';
import { seedDemoFlowIfEmpty } from '../../src/flows/demo-flow.js';
import { findDefaultFlowId, loadFlowDefinition } from '../../src/flows/flow-definition-loader.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startFakeGosac } from '../support/fake-gosac.js';
import { startTestService } from '../support/test-service.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';

describe('demo flow', () => {
  let testDb: TestDatabase;
  before(async () => {
    testDb = await createTestDatabase();
  });
  after(() => testDb.drop());

  it('is created once, as the default flow, and runs without validation errors', async () => {
    expect(await seedDemoFlowIfEmpty(testDb.db)).to.equal(true);
    expect(await seedDemoFlowIfEmpty(testDb.db)).to.equal(false);
    expect(await testDb.db('flow_templates').count({ n: '*' })).to.deep.equal([{ n: 1 }]);

    const flowId = await findDefaultFlowId(testDb.db);
    const definition = await loadFlowDefinition(testDb.db, flowId!);
    expect(validateFlow(definition!).filter((finding) => finding.severity === 'error')).to.deep.equal([]);

    const flow = compileFlow(definition!);
    const input = (text: string) => ({ type: 'USER_INPUT' as const, text, file: null, at: 0, cooldownMs: 0 });
    const greeting = startConversation(flow, { id: 1, name: 'Maria', number: '55' }, input('Oi'));
    const texts = (step: typeof greeting) => step.effects.flatMap((effect) => (effect.kind === 'send' ? [effect.text] : []));
    expect(texts(greeting)[0]).to.equal('Olá, Maria! Bem-vindo(a) à Marcenaria Demonstração.');
    const help = stepConversation(flow, greeting.snapshot, input('2'));
    const order = stepConversation(flow, help.snapshot, input('PED-77'));
    expect(texts(order)).to.deep.equal(['Envie uma foto do problema ou um PDF (laudo, nota fiscal).']);
    const photo = { name: 'defeito.jpg', mimeType: 'image/jpeg', url: null, path: 'defeito.jpg' };
    let step = stepConversation(flow, order.snapshot, { ...input(''), file: photo });
    const requested = step.effects.flatMap((effect) => (effect.kind === 'action_requested' ? [effect] : []));
    expect(requested.map((effect) => effect.action.type)).to.deep.equal(['pontta.create_occurrence']);
    // Unconfigured services: every action fails; the text says a person takes it from there.
    const sent: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      step = resumeWithActionResult(flow, step.snapshot, { type: 'ACTION_RESULT', messageId: requested[0]!.messageId, index, ok: false, value: '', error: 'Pontta is not configured' });
      sent.push(...texts(step));
    }
    // After-sales help returns to the menu (its parent subflow) once the request is registered.
    expect(sent).to.deep.equal([
      'Obrigado, Maria! Registramos sua solicitação de assistência para o pedido PED-77. Protocolo: um atendente vai registrá-la e continuar o atendimento por aqui.',
      'Olá, Maria! Bem-vindo(a) à Marcenaria Demonstração.',
      texts(greeting)[1],
    ]);
  });

  it('uses SPEC §10: a reminder on the menu, closing after an hour, an out-of-hours-aware hand-off', async () => {
    const flowId = await findDefaultFlowId(testDb.db);
    const definition = (await loadFlowDefinition(testDb.db, flowId!))!;
    expect(definition.closeAfterMinutes).to.equal(60);
    const flow = compileFlow(definition);
    const contact = { id: 1, name: 'Maria', number: '55' };
    const closedAllDay = { timezone: 'America/Sao_Paulo', week: {}, holidays: [] };
    const input = (text: string, businessHours: unknown = null) => ({ type: 'USER_INPUT' as const, text, file: null, at: 0, cooldownMs: 0, businessHours: businessHours as never });
    const greeting = startConversation(flow, contact, input('Oi'));
    const timers = greeting.effects.flatMap((effect) => (effect.kind === 'timer' ? [effect.delayMs] : []));
    expect(timers).to.deep.equal([10 * 60_000, 60 * 60_000]);
    const agent = stepConversation(flow, greeting.snapshot, input('quero falar com atendente'));
    expect(agent.effects.map((effect) => effect.kind)).to.include('handoff');
    const outOfHours = stepConversation(flow, greeting.snapshot, input('falar com atendente', closedAllDay));
    expect(outOfHours.effects.map((effect) => effect.kind)).to.not.include('handoff');
    expect(outOfHours.effects.some((effect) => effect.kind === 'send' && effect.text.startsWith('Nosso atendimento humano'))).to.equal(true);
  });
});

// Real customers must never meet "Marcenaria Demonstração": the service seeds the demo only
// outside production, or when DEMO_FLOW=true asks for it.
describe('demo flow on start', function () {
  this.timeout(60_000);

  const cases: Array<{ env: Record<string, string>; templates: number; title: string }> = [
    { env: { NODE_ENV: 'production' }, templates: 0, title: 'is not created on an empty production database' },
    { env: { ENVIRONMENT: 'production', NODE_ENV: 'development' }, templates: 0, title: 'is not created when ENVIRONMENT=production' },
    { env: { NODE_ENV: 'production', DEMO_FLOW: 'true' }, templates: 1, title: 'is created in production when DEMO_FLOW=true' },
    { env: { NODE_ENV: 'development' }, templates: 1, title: 'is created on an empty database outside production' },
  ];
  for (const { env, templates, title } of cases) {
    it(title, async () => {
      // DEMO_FLOW= (empty) is "unset": the service decides from the environment.
      const service = await startTestService({ DEMO_FLOW: '', ...env });
      try {
        expect(service.deps.config.production).to.equal(Object.values(env).includes('production'));
        expect(await service.testDb.db('flow_templates').count({ n: '*' })).to.deep.equal([{ n: templates }]);
        expect(await service.testDb.db('flows').where({ is_default: true }).count({ n: '*' })).to.deep.equal([{ n: templates }]);
      } finally {
        await service.stop();
        await service.testDb.drop();
      }
    });
  }
});

// SPEC §8 on a fresh install with neither Pontta nor Google configured: validate names every
// action of the assistance path, and a contact going down it is told politely that a person
// takes it from there; the failures are listed for the operator.
describe('demo flow: assistência técnica without Pontta or Google', function () {
  this.timeout(60_000);

  it('is flagged by validate and answers politely that a person will handle it', async () => {
    const gosac = await startFakeGosac();
    const service = await startTestService({ DEMO_FLOW: 'true', GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION demo' });
    try {
      const flowId = await findDefaultFlowId(service.testDb.db);
      const report = (await service.admin('GET', `/api/flows/${flowId}/validate`)).body;
      const unconfigured = report.findings.filter((finding: any) => finding.kind === 'action_not_configured');
      expect(unconfigured.map((finding: any) => /\(([a-z._]+)\)/.exec(finding.message)?.[1])).to.deep.equal([
        'pontta.create_occurrence',
        'pontta.attach_files',
        'drive.upload_files',
        'sheets.append_row',
      ]);
      expect(report.valid).to.equal(false);

      const sender = { contactId: 4711, name: 'Maria' };
      const ticket = sender.contactId + 100_000;
      const path = `/messages/${ticket}`;
      for (const [text, replies] of [['Oi', 2], ['2', 3], ['PED-77', 4]] as const) {
        await service.webhook(textMessage(sender, text));
        await gosac.waitForMessages(path, replies);
      }
      const photo = fileMessage(sender, 'defeito.jpg');
      photo.data.mediaUrl = gosac.serveMedia('/media/defeito.jpg', { body: Buffer.from('jpeg bytes'), contentType: 'image/jpeg' });
      await service.webhook(photo);
      const replies = await gosac.waitForMessages(path, 7, 30_000);
      expect(replies[4]!.body.body).to.equal(
        'Obrigado, Maria! Registramos sua solicitação de assistência para o pedido PED-77. Protocolo: um atendente vai registrá-la e continuar o atendimento por aqui.',
      );
      const failed = (await service.admin('GET', `/api/actions?status=failed&contact_id=${sender.contactId}`)).body;
      expect(failed).to.have.length(4);
      expect(failed.map((run: any) => run.last_error).join('\n')).to.match(/Google Sheets is not configured/).and.to.match(/Pontta is not configured/);
    } finally {
      await service.stop();
      await service.testDb.drop();
      await gosac.stop();
    }
  });
});
