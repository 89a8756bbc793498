import { expect } from 'chai';
import type { StepResult, UserInput } from '../../machines/index.js';
import {
  compileFlow,
  isConversationDone,
  positionOf,
  startConversation,
  stepConversation,
} from '../../machines/index.js';
import { askFile, contact, fileNamed, flowOf, msg, say, sent, sub, text, withFile } from './helpers.js';
import type { FlowDefinition } from '../../machines/index.js';

/** Runs a whole conversation, JSON round-tripping the snapshot between steps like the runtime does. */
function converse(definition: FlowDefinition, first: UserInput, ...inputs: UserInput[]): StepResult[] {
  const flow = compileFlow(definition);
  const results = [startConversation(flow, contact, first)];
  for (const input of inputs) {
    const previous = results[results.length - 1] as StepResult;
    results.push(stepConversation(flow, JSON.parse(JSON.stringify(previous.snapshot)), input));
  }
  return results;
}

const last = (results: StepResult[]) => results[results.length - 1] as StepResult;

// Menu (1) -> "orçamento" (2, child of 1) and "projeto" (3, child of 1).
const helpdesk = flowOf(
  sub(1, [say(10, 'Olá {{contact_name}}!', { delaySeconds: 2 }), msg(11, 'Digite 1 para orçamento ou 2 para projeto')], {
    triggerKeywords: ['menu'],
  }),
  sub(2, [msg(20, 'Qual o seu nome?', { saveResponseAs: 'nome' }), say(21, 'Obrigado, {{ nome }}. Vamos começar.')], {
    parentSubflowId: 1,
    triggerKeywords: ['1', 'orçamento'],
  }),
  sub(3, [askFile(30, 'Envie o projeto em PDF ou DWG', ['pdf', 'dwg'], { saveResponseAs: 'arquivo' })], {
    parentSubflowId: 1,
    triggerKeywords: ['2', 'projeto'],
  }),
);

describe('conversations', () => {
  describe('rule 1: greeting', () => {
    it('sends the first subflow by order, filling {{contact_name}}, without keyword-checking the first input', () => {
      const [start] = converse(helpdesk, text('projeto'));
      expect(sent(start?.effects ?? [])).to.deep.equal([
        'flow:10:Olá Ana!',
        'flow:11:Digite 1 para orçamento ou 2 para projeto',
      ]);
      expect(start?.position).to.deep.equal({ subflowId: 1, messageId: 11 });
      expect(start?.done).to.equal(false);
    });

    it('orders subflows and messages by orderIndex then id, skipping subflows without messages', () => {
      const definition = flowOf(
        sub(1, [], { orderIndex: 0 }),
        sub(9, [msg(92, 'b', { orderIndex: 1 }), msg(93, 'c', { orderIndex: 1 }), say(91, 'a', { orderIndex: 5 })], {
          orderIndex: 1,
        }),
        sub(4, [say(40, 'x')], { orderIndex: 1 }),
      );
      const [start] = converse(definition, text('oi'));
      expect(sent(start?.effects ?? [])).to.deep.equal(['flow:40:x', 'completed']);
    });

    it('fills {{contact_number}} and blanks unknown names', () => {
      const [start] = converse(flowOf(sub(1, [msg(1, '{{contact_number}}/{{desconhecido}}/')])), text('oi'));
      expect(sent(start?.effects ?? [])).to.deep.equal([`flow:1:${contact.number}//`]);
    });
  });

  describe('rule 2: chains of messages that wait for nothing', () => {
    it('sends the chain in order, each with its own delay', () => {
      const definition = flowOf(
        sub(1, [say(1, 'a', { delaySeconds: 0 }), say(2, 'b', { delaySeconds: 3 }), say(3, 'c', { delaySeconds: 1.5 }), msg(4, 'd?', { delaySeconds: 4 })]),
      );
      const [start] = converse(definition, text('oi'));
      expect(start?.effects.map((effect) => (effect.kind === 'send' ? [effect.messageId, effect.delaySeconds] : null))).to.deep.equal([
        [1, 0],
        [2, 3],
        [3, 1.5],
        [4, 4],
      ]);
    });
  });

  describe('rule 3: waiting for a response', () => {
    it('moves on, saving the response into the variable used by a later template', () => {
      const results = converse(helpdesk, text('oi'), text('1'), text('Joana'));
      expect(sent(last(results).effects)).to.deep.equal([
        'var:nome=Joana',
        'flow:21:Obrigado, Joana. Vamos começar.',
        'flow:10:Olá Ana!',
        'flow:11:Digite 1 para orçamento ou 2 para projeto',
      ]);
      expect(last(results).variables).to.deep.equal({ nome: 'Joana' });
    });

    it('checks keywords before moving on', () => {
      const results = converse(helpdesk, text('oi'), text('1'), text('quero ver o menu'));
      expect(sent(last(results).effects)).to.deep.equal([
        'keyword:1:menu',
        'flow:10:Olá Ana!',
        'flow:11:Digite 1 para orçamento ou 2 para projeto',
      ]);
      expect(last(results).variables).to.deep.equal({});
    });

    it('uses a file caption as the text', () => {
      const results = converse(helpdesk, text('oi'), withFile(fileNamed('a.pdf'), 'Projeto, por favor'));
      expect(sent(last(results).effects)[0]).to.equal('keyword:3:projeto');
    });

    it('re-entering the current subflow by keyword sends its first message again', () => {
      const results = converse(helpdesk, text('oi'), text('MENU!'));
      expect(sent(last(results).effects)).to.deep.equal([
        'keyword:1:menu',
        'flow:10:Olá Ana!',
        'flow:11:Digite 1 para orçamento ou 2 para projeto',
      ]);
    });

    describe('menus (a waiting message that is last of its subflow)', () => {
      it('jumps on a keyword, accent- and case-insensitively', () => {
        const results = converse(helpdesk, text('oi'), text('Quero um ORCAMENTO'));
        expect(sent(last(results).effects)).to.deep.equal(['keyword:2:orçamento', 'flow:20:Qual o seu nome?']);
        expect(last(results).position).to.deep.equal({ subflowId: 2, messageId: 20 });
      });

      it('re-prompts other input at most once per cooldown and stays', () => {
        const cooldown = 10_000;
        const results = converse(
          helpdesk,
          text('oi', 0, cooldown),
          text('10', 1_000, cooldown),
          text('assim', 5_000, cooldown),
          text('hein?', 10_999, cooldown),
          text('hein?', 11_000, cooldown),
        );
        const prompt = 'reprompt:11:Digite 1 para orçamento ou 2 para projeto';
        expect(results.slice(1).map((result) => sent(result.effects))).to.deep.equal([[prompt], [], [], [prompt]]);
        for (const result of results) expect(result.position).to.deep.equal({ subflowId: 1, messageId: 11 });
      });

      it('starts a fresh cooldown at a new position', () => {
        const definition = flowOf(
          sub(1, [msg(10, 'menu A')], { triggerKeywords: ['a'] }),
          sub(2, [msg(20, 'menu B')], { triggerKeywords: ['b'] }),
        );
        const results = converse(definition, text('oi', 0), text('x', 1), text('b', 2), text('x', 3));
        expect(sent(last(results).effects)).to.deep.equal(['reprompt:20:menu B']);
      });

      it('does not save the response of a menu', () => {
        const definition = flowOf(sub(1, [msg(10, 'menu', { saveResponseAs: 'escolha' })]));
        const results = converse(definition, text('oi'), text('qualquer'));
        expect(last(results).variables).to.deep.equal({});
      });
    });
  });

  describe('rule 4: waiting for a file', () => {
    const toFileWait = [text('oi'), text('2')] as const;

    it('accepts an expected type (by extension or MIME type), saves its name and goes back to the menu', () => {
      const results = converse(helpdesk, ...toFileWait, withFile(fileNamed('projeto.PDF')));
      const effects = last(results).effects;
      expect(sent(effects)).to.deep.equal([
        'file:30:pdf',
        'var:arquivo=projeto.PDF',
        'flow:10:Olá Ana!',
        'flow:11:Digite 1 para orçamento ou 2 para projeto',
      ]);
      expect(effects[0]).to.deep.equal({
        kind: 'file_received',
        messageId: 30,
        subflowId: 3,
        file: fileNamed('projeto.PDF'),
        fileType: 'pdf',
      });
      const byMime = converse(helpdesk, ...toFileWait, withFile(fileNamed('documento', 'application/pdf')));
      expect(sent(last(byMime).effects)[0]).to.equal('file:30:');
    });

    it('explains a wrong type in Portuguese and stays', () => {
      const results = converse(helpdesk, ...toFileWait, withFile(fileNamed('foto.jpg', 'image/jpeg')));
      expect(last(results).effects).to.deep.equal([
        {
          kind: 'send',
          reason: 'wrong_file_type',
          messageId: 30,
          subflowId: 3,
          text: 'O arquivo "foto.jpg" não é do tipo esperado. Envie um arquivo PDF ou DWG.',
          delaySeconds: 0,
        },
      ]);
      expect(last(results).position).to.deep.equal({ subflowId: 3, messageId: 30 });
    });

    it('re-prompts plain text (once per cooldown) and follows keywords', () => {
      const results = converse(helpdesk, ...toFileWait, text('cadê?', 1, 100), text('cadê?', 50, 100), text('menu', 60, 100));
      expect(results.slice(2).map((result) => sent(result.effects))).to.deep.equal([
        ['reprompt:30:Envie o projeto em PDF ou DWG'],
        [],
        ['keyword:1:menu', 'flow:10:Olá Ana!', 'flow:11:Digite 1 para orçamento ou 2 para projeto'],
      ]);
    });

    it('accepts any file when no type is expected and moves to the next message', () => {
      const definition = flowOf(sub(1, [askFile(1, 'mande algo', []), msg(2, 'ok, e agora?')]));
      const results = converse(definition, text('oi'), withFile(fileNamed('qualquer.xyz')));
      expect(sent(last(results).effects)).to.deep.equal(['file:1:xyz', 'flow:2:ok, e agora?']);
    });

    it('lets waitForFile win over waitForResponse', () => {
      const definition = flowOf(sub(1, [msg(1, 'arquivo?', { waitForFile: true, expectedFileTypes: ['pdf'] }), msg(2, 'fim?')]));
      const results = converse(definition, text('oi'), text('texto'));
      expect(sent(last(results).effects)).to.deep.equal(['reprompt:1:arquivo?']);
    });
  });

  describe('rule 5: past the end of a subflow', () => {
    it('completes when there is no parent (and stepping a done conversation does nothing)', () => {
      const definition = flowOf(sub(1, [msg(1, 'nome?', { saveResponseAs: 'nome' }), msg(2, 'arquivo?', { waitForFile: true }), say(3, 'tchau {{nome}}')]));
      const results = converse(definition, text('oi'), text('Bia'), withFile(fileNamed('a.txt')), text('oi de novo'));
      expect(sent(results[2]?.effects ?? [])).to.deep.equal(['file:2:txt', 'flow:3:tchau Bia', 'completed']);
      expect(results[2]?.done).to.equal(true);
      expect(results[2]?.position).to.equal(null);
      expect(isConversationDone(results[2]?.snapshot)).to.equal(true);
      expect(last(results)).to.deep.include({ done: true, effects: [] });
      expect(last(results).snapshot).to.deep.equal(results[2]?.snapshot);
    });

    it('treats a missing or empty parent as no parent', () => {
      for (const parent of [99, 2]) {
        const definition = flowOf(sub(1, [say(1, 'só isso')], { parentSubflowId: parent }), sub(2, []));
        const [start] = converse(definition, text('oi'));
        expect(sent(start?.effects ?? [])).to.deep.equal(['flow:1:só isso', 'completed']);
      }
    });

    it('a subflow that is its own parent starts over (e.g. to collect several files)', () => {
      const definition = flowOf(sub(1, [askFile(1, 'mande um PDF', ['pdf'])], { parentSubflowId: 1 }));
      const results = converse(definition, text('oi'), withFile(fileNamed('a.pdf')));
      expect(sent(last(results).effects)).to.deep.equal(['file:1:pdf', 'flow:1:mande um PDF']);
    });
  });

  describe('rule 6: keyword precedence', () => {
    const definition = flowOf(
      sub(1, [msg(10, 'menu')]),
      sub(2, [msg(20, 'dois')], { triggerKeywords: ['orçamento'] }),
      sub(3, [msg(30, 'três')], { triggerKeywords: ['orcamento urgente', ''] }),
      sub(4, [msg(40, 'quatro')], { triggerKeywords: ['Orçamento'] }),
      sub(5, [], { triggerKeywords: ['vazio'] }),
    );

    it('prefers the longest keyword', () => {
      const results = converse(definition, text('oi'), text('ORÇAMENTO URGENTE!'));
      expect(sent(last(results).effects)).to.deep.equal(['keyword:3:orcamento urgente', 'flow:30:três']);
    });

    it('gives ties to the first subflow', () => {
      const results = converse(definition, text('oi'), text('orçamento'));
      expect(sent(last(results).effects)).to.deep.equal(['keyword:2:orçamento', 'flow:20:dois']);
    });

    it('ignores keywords of subflows without messages', () => {
      const results = converse(definition, text('oi', 0), text('vazio', 1));
      expect(sent(last(results).effects)).to.deep.equal(['reprompt:10:menu']);
    });
  });

  describe('helpers', () => {
    it('positionOf reads a persisted snapshot', () => {
      const [start] = converse(helpdesk, text('oi'));
      expect(positionOf(start?.snapshot)).to.deep.equal({ subflowId: 1, messageId: 11 });
      expect(positionOf(null)).to.equal(null);
    });

    it('rejects something that is not a snapshot of this flow', () => {
      const flow = compileFlow(helpdesk);
      expect(() => stepConversation(flow, { nope: true }, text('x'))).to.throw(/Cannot restore/);
      expect(() =>
        stepConversation(flow, { status: 'active', value: { sf_404: 'msg_1' }, context: {}, historyValue: {}, children: {} }, text('x')),
      ).to.throw(/Cannot restore/);
    });
  });
});
