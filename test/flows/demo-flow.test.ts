import { expect } from 'chai';
import { compileFlow, startConversation, stepConversation, validateFlow } from '../../machines/index.js';
import { seedDemoFlowIfEmpty } from '../../src/flows/demo-flow.js';
import { findDefaultFlowId, loadFlowDefinition } from '../../src/flows/flow-definition-loader.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startTestService } from '../support/test-service.js';

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
    const registered = stepConversation(flow, help.snapshot, input('PED-77'));
    // After-sales help returns to the menu (its parent subflow) once the request is registered.
    expect(texts(registered)).to.deep.equal([
      'Obrigado! Registramos a solicitação de assistência para o pedido PED-77.',
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
