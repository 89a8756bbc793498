import { expect } from 'chai';
import { renderTemplate, templateVariables } from '../../machines/index.js';

describe('templating', () => {
  it('fills known names, allowing whitespace inside the braces', () => {
    expect(renderTemplate('Olá {{contact_name}}, seu número é {{ contact_number }}.', {
      contact_name: 'Ana',
      contact_number: '5511',
    })).to.equal('Olá Ana, seu número é 5511.');
  });

  it('renders unknown names as empty text, including Object.prototype members', () => {
    expect(renderTemplate('[{{nada}}][{{constructor}}][{{__proto__}}]', {})).to.equal('[][][]');
  });

  it('leaves text without placeholders alone', () => {
    expect(renderTemplate('sem {chaves} aqui {{}}', { a: 'b' })).to.equal('sem {chaves} aqui {{}}');
  });

  it('lists the variables a text uses, once each', () => {
    expect(templateVariables('{{a}} {{ b }} {{a}} {c}')).to.deep.equal(['a', 'b']);
  });
});
