import { expect } from 'chai';
import type { ActionResultEvent, StepResult } from '../../machines/index.js';
import {
  compileFlow,
  flowActionSchema,
  pendingActionOf,
  positionOf,
  previewConversation,
  renderTemplate,
  resumeWithActionResult,
  startConversation,
  stepConversation,
  validateFlow,
} from '../../machines/index.js';
import { askFile, contact, fileNamed, flowOf, msg, say, sent, sub, text, withFile } from './helpers.js';

const roundTrip = (step: StepResult) => JSON.parse(JSON.stringify(step.snapshot)) as unknown;
const ok = (messageId: number, index: number, value: string): ActionResultEvent => ({ type: 'ACTION_RESULT', messageId, index, ok: true, value, error: '' });
const failed = (messageId: number, index: number, error: string): ActionResultEvent => ({ type: 'ACTION_RESULT', messageId, index, ok: false, value: '', error });

// Ask the order number, then a file, then open an occurrence, attach, and say its number.
const assistance = flowOf(
  sub(1, [
    msg(10, 'Número do pedido?', { saveResponseAs: 'pedido' }),
    askFile(11, 'Envie uma foto ou PDF', ['pdf', 'jpg']),
    say(12, 'Ocorrência nº {{ocorrencia|(sem número)}} aberta. {{action_error}}', {
      actions: [
        { type: 'pontta.create_occurrence', title: 'Assistência {{contact_name}}', note: 'Pedido {{pedido}}', save_result_as: 'ocorrencia' },
        { type: 'pontta.attach_files', occurrence: '{{ocorrencia}}' },
      ],
    }),
    msg(13, 'Algo mais? ({{ocorrencia}})'),
  ]),
);

describe('flow actions (SPEC §8)', () => {
  it('waits on each action in order, before the message text, and uses the result in it and later', () => {
    const flow = compileFlow(assistance);
    let step = startConversation(flow, contact, text('oi'));
    step = stepConversation(flow, roundTrip(step), text('4521'));
    step = stepConversation(flow, roundTrip(step), withFile(fileNamed('foto.jpg')));
    expect(sent(step.effects)).to.deep.equal(['file:11:jpg', 'action:12:0:pontta.create_occurrence']);
    const requested = step.effects.find((effect) => effect.kind === 'action_requested');
    expect(requested?.kind === 'action_requested' && requested.action).to.deep.equal({
      type: 'pontta.create_occurrence',
      title: 'Assistência Ana',
      note: 'Pedido 4521',
      save_result_as: 'ocorrencia',
    });
    expect(positionOf(step.snapshot)).to.deep.equal({ subflowId: 1, messageId: 12 });
    expect(pendingActionOf((roundTrip(step) as { value: unknown }).value)).to.deep.equal({ messageId: 12, index: 0 });

    // A stale or foreign result changes nothing.
    const stale = resumeWithActionResult(flow, roundTrip(step), ok(12, 1, 'x'));
    expect(stale.effects).to.deep.equal([]);

    step = resumeWithActionResult(flow, roundTrip(step), ok(12, 0, '981'));
    const attach = step.effects.find((effect) => effect.kind === 'action_requested');
    expect(attach?.kind === 'action_requested' && attach.action).to.deep.equal({ type: 'pontta.attach_files', occurrence: '981' });
    step = resumeWithActionResult(flow, roundTrip(step), ok(12, 1, ''));
    expect(sent(step.effects)).to.deep.equal(['flow:12:Ocorrência nº 981 aberta. ', 'flow:13:Algo mais? (981)']);
    expect(step.variables['ocorrencia']).to.equal('981');
  });

  it('on failure leaves the variable empty, sets {{action_error}} and goes on', () => {
    const flow = compileFlow(assistance);
    let step = startConversation(flow, contact, text('oi'));
    step = stepConversation(flow, roundTrip(step), text('4521'));
    step = stepConversation(flow, roundTrip(step), withFile(fileNamed('foto.pdf')));
    step = resumeWithActionResult(flow, roundTrip(step), failed(12, 0, 'Pontta refused (400)'));
    step = resumeWithActionResult(flow, roundTrip(step), failed(12, 1, 'no occurrence'));
    expect(sent(step.effects)[0]).to.equal('flow:12:Ocorrência nº (sem número) aberta. no occurrence');
    expect(step.variables['ocorrencia']).to.equal('');
  });

  it('starts a conversation whose first message has actions in the action state', () => {
    const flow = compileFlow(flowOf(sub(1, [say(1, 'r={{r}}', { actions: [{ type: 'http.post', url: 'http://x/{{contact_number}}', body: { n: '{{contact_name}}' }, save_result_as: 'r' }] }), msg(2, 'fim')])));
    let step = startConversation(flow, contact, text('oi'));
    expect(sent(step.effects)).to.deep.equal(['action:1:0:http.post']);
    const effect = step.effects[0];
    expect(effect?.kind === 'action_requested' && effect.action).to.deep.include({ url: 'http://x/5511999990000', body: { n: 'Ana' } });
    step = resumeWithActionResult(flow, roundTrip(step), ok(1, 0, 'ok'));
    expect(sent(step.effects)).to.deep.equal(['flow:1:r=ok', 'flow:2:fim']);
  });

  it('does not call a chain of silent messages with actions a loop: each action waits', () => {
    const looping = flowOf(sub(1, [say(1, 'a', { actions: [{ type: 'http.post', url: 'http://x' }] })], { parentSubflowId: 1 }));
    expect(() => compileFlow(looping)).not.to.throw();
  });

  it('validates each action type and its fields', () => {
    expect(flowActionSchema.safeParse({ type: 'sheets.append_row', values: ['{{pedido}}'] }).success).to.equal(true);
    expect(flowActionSchema.safeParse({ type: 'sheets.append_row', values: [] }).success).to.equal(false);
    expect(flowActionSchema.safeParse({ type: 'pontta.create_occurrence', note: 'x' }).success).to.equal(false);
    expect(flowActionSchema.safeParse({ type: 'http.post', url: 'ftp://x' }).success).to.equal(false);
    expect(flowActionSchema.safeParse({ type: 'unknown' }).success).to.equal(false);
  });

  it('counts save_result_as and action_error as known variables', () => {
    const findings = validateFlow(assistance).filter((finding) => finding.kind === 'unknown_variable');
    expect(findings).to.deep.equal([]);
  });

  it('warns about unknown variables in an action\'s templates too', () => {
    const flow = flowOf(sub(1, [say(1, 'x', { actions: [{ type: 'http.post', url: 'http://x/{{nope}}' }] }), msg(2, 'fim')]));
    expect(validateFlow(flow).filter((finding) => finding.kind === 'unknown_variable').map((finding) => finding.variable)).to.deep.equal(['nope']);
  });

  it('previews a message with actions as if each succeeded, and lists them', () => {
    const flow = compileFlow(assistance);
    const steps = previewConversation(flow, contact, [text('oi'), text('4521'), withFile(fileNamed('a.pdf'))]);
    expect(steps[2]?.actions.map((action) => action.type)).to.deep.equal(['pontta.create_occurrence', 'pontta.attach_files']);
    expect(steps[2]?.replies.map((reply) => reply.text)[0]).to.equal('Ocorrência nº [pontta.create_occurrence] aberta. ');
  });

  it('templates may give a fallback for an empty variable', () => {
    expect(renderTemplate('n {{a|sem}} {{b|sem número}}', { a: '1', b: '' })).to.equal('n 1 sem número');
  });
});
