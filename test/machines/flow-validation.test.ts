import { expect } from 'chai';
import { compileFlow, previewConversation, startConversation, stepConversation, validateFlow, type Finding } from '../../machines/index.js';
import { askFile, contact, flowOf, msg, say, sub, text, withFile, fileNamed } from './helpers.js';

const kinds = (findings: Finding[]) => findings.map((finding) => finding.kind);

describe('validateFlow', () => {
  it('finds nothing in a sound flow', () => {
    const flow = flowOf(
      sub(1, [say(10, 'Olá {{contact_name}}'), msg(11, 'Menu: 1 ou 2')]),
      sub(2, [msg(20, 'Seu nome?', { saveResponseAs: 'nome' }), say(21, 'Obrigado, {{nome}}')], { triggerKeywords: ['1'], parentSubflowId: 1 }),
      sub(3, [askFile(30, 'Envie o PDF', ['pdf'])], { triggerKeywords: ['2'] }),
    );
    expect(validateFlow(flow)).to.deep.equal([]);
  });

  it('finds each listed problem in a deliberately broken flow', () => {
    const flow = flowOf(
      sub(1, [say(10, 'Olá {{contact_name}} {{apelido}}'), msg(11, 'Menu')]),
      sub(2, [say(20, 'Orçamento')], { triggerKeywords: ['Orçamento', 'sim'] }),
      // Unreachable too: its only keyword is taken by subflow 2, which comes first.
      sub(3, [say(30, 'Também orçamento')], { triggerKeywords: ['orcamento'] }),
      sub(4, [say(40, 'Ninguém chega aqui'), say(41, 'Nem aqui')]),
      sub(5, [], { triggerKeywords: ['vazio'] }),
    );
    const findings = validateFlow(flow);
    expect(findings.find((f) => f.kind === 'shared_keyword')).to.deep.include({ keyword: 'orcamento', subflowIds: [2, 3] });
    expect(findings.filter((f) => f.kind === 'unreachable_message').map((f) => f.messageId)).to.deep.equal([30, 40, 41]);
    expect(findings.find((f) => f.kind === 'empty_subflow')).to.deep.include({ subflowId: 5, severity: 'warning' });
    expect(findings.find((f) => f.kind === 'unknown_variable')).to.deep.include({ messageId: 10, variable: 'apelido' });
    expect(kinds(findings)).not.to.include('compile_error');
    expect(kinds(findings)).not.to.include('menu_without_exit');
  });

  it('flags a menu when no keyword leads anywhere else, as an error', () => {
    const noKeywords = validateFlow(flowOf(sub(1, [say(10, 'Oi'), msg(11, 'Escolha uma opção')])));
    expect(noKeywords).to.have.length(1);
    expect(noKeywords[0]).to.deep.include({ kind: 'menu_without_exit', severity: 'error', messageId: 11 });
    const onlySelf = validateFlow(flowOf(sub(1, [msg(11, 'Menu')], { triggerKeywords: ['menu'] })));
    expect(kinds(onlySelf)).to.deep.equal(['menu_without_exit']);
  });

  it('reports compile errors instead of throwing', () => {
    const loop = flowOf(sub(1, [say(10, 'a')], { parentSubflowId: 1 }));
    const findings = validateFlow(loop);
    expect(findings[0]).to.deep.include({ kind: 'compile_error', severity: 'error' });
    expect(findings[0]?.message).to.match(/loop/);
    expect(kinds(validateFlow(flowOf(sub(1, []))))).to.include('compile_error');
  });

  it('does not count keywords as live when the flow never waits', () => {
    const flow = flowOf(sub(1, [say(10, 'Tchau')]), sub(2, [say(20, 'x')], { triggerKeywords: ['x'] }));
    expect(validateFlow(flow).map((f) => [f.kind, f.messageId])).to.deep.equal([['unreachable_message', 20]]);
  });

  it('accepts variables saved anywhere in the flow and the built-in ones', () => {
    const flow = flowOf(
      sub(1, [msg(10, '{{contact_number}} {{pedido}}'), msg(11, 'Pedido?', { saveResponseAs: 'pedido' }), msg(12, 'fim')], {
        triggerKeywords: ['a'],
      }),
      sub(2, [say(20, 'b')], { triggerKeywords: ['b'] }),
    );
    expect(kinds(validateFlow(flow))).not.to.include('unknown_variable');
  });
});

describe('previewConversation', () => {
  const flow = compileFlow(
    flowOf(
      sub(1, [say(10, 'Olá {{contact_name}}'), msg(11, 'Menu: 1 orçamento')]),
      sub(2, [msg(20, 'Ambiente?', { saveResponseAs: 'ambiente' }), askFile(21, 'PDF da {{ambiente}}', ['pdf']), say(22, 'Recebido')], {
        triggerKeywords: ['1'],
      }),
    ),
  );

  it('returns, per input, exactly the texts startConversation/stepConversation produce', () => {
    const inputs = [text('oi', 0, 0), text('hã?', 1, 0), text('1', 2, 0), text('cozinha', 3, 0), withFile(fileNamed('foto.jpg'), '', 4, 0), withFile(fileNamed('p.pdf'), '', 5, 0), text('de novo', 6, 0)];
    const steps = previewConversation(flow, contact, inputs);
    expect(steps.map((step) => step.replies.map((reply) => reply.text))).to.deep.equal([
      ['Olá Ana', 'Menu: 1 orçamento'],
      ['Menu: 1 orçamento'],
      ['Ambiente?'],
      ['PDF da cozinha'],
      ['O arquivo "foto.jpg" não é do tipo esperado. Envie um arquivo PDF.'],
      ['Recebido'],
      ['Olá Ana', 'Menu: 1 orçamento'],
    ]);
    expect(steps.map((step) => [step.started, step.completed])).to.deep.equal([
      [true, false],
      [false, false],
      [false, false],
      [false, false],
      [false, false],
      [false, true],
      [true, false],
    ]);

    let manual = startConversation(flow, contact, inputs[0]!);
    for (const [index, input] of inputs.slice(1, 6).entries()) {
      manual = stepConversation(flow, manual.snapshot, input);
      expect(steps[index + 1]?.replies.map((reply) => reply.text)).to.deep.equal(
        manual.effects.flatMap((effect) => (effect.kind === 'send' ? [effect.text] : [])),
      );
    }
  });
});
