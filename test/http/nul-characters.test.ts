// PostgreSQL text cannot store U+0000. Found by fuzzing: such a value passed validation and failed
// in the INSERT with a 500. Every admin write now refuses it with a 400 naming the field.
import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('NUL characters in admin writes', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp();
  });
  after(() => app.close());

  it('answers 400 naming the field and writes nothing', async () => {
    const before = await app.deps.db('flow_templates').count({ n: '*' });
    const template = await app.api('POST', '/api/flow-templates', { name: 'Móveis\u0000' });
    expect(template.status).to.equal(400);
    expect(template.body.errors).to.deep.equal(['name: must not contain the NUL character (\\u0000)']);
    expect(await app.deps.db('flow_templates').count({ n: '*' })).to.deep.equal(before);

    const setting = await app.api('PUT', '/api/settings/TEST_CONTACT_ID', { value: '55\u000011' });
    expect(setting.status).to.equal(400);
    expect(setting.body.errors).to.deep.equal(['value: must not contain the NUL character (\\u0000)']);
  });

  it('names nested fields of an import', async () => {
    const answer = await app.api('POST', '/api/import/flows', {
      name: 'Modelo',
      flows: [{ name: 'Fluxo', subflows: [{ name: 'Início', trigger_keywords: ['o\u0000i'], messages: [{ message_text: 'Olá' }] }] }],
    });
    expect(answer.status).to.equal(400);
    expect(answer.body.errors.join()).to.include('flows.0.subflows.0.trigger_keywords.0: must not contain the NUL character');
  });
});
