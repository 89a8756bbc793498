// The frames themselves: the @statelyai/inspect 0.7 shape, and masking by default.
import { expect } from 'chai';
import type { UserInput } from '../../machines/index.js';
import { actorFrame, decodeItems, encodeItems, eventFrame, maskNumber, maskSnapshot, sessionIdOf, snapshotFrame } from '../../src/inspection/inspection-frames.js';
import { itemsOf } from '../../src/inspection/inspection-publisher.js';

const input: UserInput = { type: 'USER_INPUT', text: 'meu CPF é 123', file: { name: 'planta-casa.pdf', mimeType: 'application/pdf', url: 'https://x/y', path: 'p' }, at: 1, cooldownMs: 0 };
const persisted = {
  status: 'active',
  value: { sf_1: 'msg_2' },
  context: { contact: { id: 7, name: 'Maria Souza', number: '5511987654321' }, variables: { cpf: '123' }, lastRepromptAt: null },
  historyValue: {},
  children: {},
};

describe('inspection frames', () => {
  it('masks numbers to their last 4 digits', () => {
    expect(maskNumber('5511987654321')).to.equal('*********4321');
    expect(maskNumber('+55 (11) 98765-4321')).to.equal('*********4321');
    expect(maskNumber('123')).to.equal('123');
    expect(maskNumber('')).to.equal('');
  });

  it('leaves texts, variables, names and file names out by default, and keeps only status, value, context', () => {
    const hidden = { showText: false };
    const snapshot = maskSnapshot(persisted, hidden);
    expect(Object.keys(snapshot)).to.deep.equal(['status', 'value', 'context']);
    expect(snapshot.context).to.deep.equal({ contact: { id: 7, name: 'M.', number: '*********4321' }, variables: { cpf: '(hidden)' }, lastRepromptAt: null });
    const frames = [eventFrame({ conversationId: 3, at: 5, input, options: hidden }), snapshotFrame({ conversationId: 3, at: 5, input, snapshot: persisted, options: hidden })];
    const text = JSON.stringify(frames);
    for (const secret of ['CPF', '5511987654321', 'Maria', 'planta-casa', '"123"']) expect(text).to.not.include(secret);
    expect(frames[0]!.event).to.include({ type: 'USER_INPUT', textLength: input.text.length });
  });

  it('shows texts when INSPECT_SHOW_TEXT is on, never the full number', () => {
    const shown = { showText: true };
    const frame = snapshotFrame({ conversationId: 3, at: 5, input, snapshot: persisted, options: shown });
    expect(frame.event).to.include({ text: 'meu CPF é 123' });
    expect(frame.snapshot.context).to.deep.include({ variables: { cpf: '123' } });
    expect(JSON.stringify(frame)).to.not.include('5511987654321');
  });

  it('has the fields of @statelyai/inspect 0.7 frames, with sessionId and rootId conversation:<id>', () => {
    const config = { id: 'flow_9', initial: 'start', states: { start: {} } };
    const actor = actorFrame({ conversationId: 12, at: 1_700_000_000_000, machineConfig: config, snapshot: persisted, options: { showText: false } });
    expect(actor).to.include({ type: '@xstate.actor', name: 'flow_9', sessionId: 'conversation:12', rootId: 'conversation:12', createdAt: '1700000000000', _version: '0.7.2' });
    expect(actor.id).to.be.a('string').and.not.equal('');
    expect(JSON.parse(actor.definition!)).to.deep.equal(config);
    expect(sessionIdOf(12)).to.equal('conversation:12');
  });

  it('groups a batch per conversation: actor on its first step, then event and snapshot per input', () => {
    const config = { id: 'flow_9', initial: 'start', states: {} };
    const step = (id: number, startedWith: Record<string, unknown> | null) => ({
      conversation: { id },
      contactId: id * 10,
      flowId: 9,
      startedWith,
      input,
      snapshot: persisted,
      showText: false,
    });
    const items = itemsOf([step(1, config), step(2, null), step(1, null)], 5);
    expect(items.map((item) => [item.conversationId, item.contactId, item.frames.map((frame) => frame.type)])).to.deep.equal([
      [1, 10, ['@xstate.actor', '@xstate.event', '@xstate.snapshot', '@xstate.event', '@xstate.snapshot']],
      [2, 20, ['@xstate.event', '@xstate.snapshot']],
    ]);
    expect(items[0]!.frames[0]).to.deep.include({ snapshot: { status: 'active', value: 'start', context: maskSnapshot(persisted, { showText: false }).context } });
  });

  it('travels as a header line and one serialised frame per line, read back as text', () => {
    const options = { showText: true };
    const withNewline = { ...input, text: 'linha 1\nlinha 2' };
    const items = [
      { conversationId: 1, contactId: 10, flowId: 9, frames: [eventFrame({ conversationId: 1, at: 5, input: withNewline, options })] },
      { conversationId: 2, contactId: 20, flowId: 9, frames: [] },
      { conversationId: 3, contactId: 30, flowId: 8, frames: [eventFrame({ conversationId: 3, at: 5, input, options }), snapshotFrame({ conversationId: 3, at: 5, input, snapshot: persisted, options })] },
    ];
    const decoded = decodeItems(encodeItems(items))!;
    expect(decoded.map((item) => [item.conversationId, item.contactId, item.flowId, item.frames.map((frame) => JSON.parse(frame))])).to.deep.equal(
      items.map((item) => [item.conversationId, item.contactId, item.flowId, JSON.parse(JSON.stringify(item.frames))]),
    );
    expect(decodeItems('not json')).to.equal(undefined);
    expect(decodeItems('[[1,2,3,2]]\n{}')).to.equal(undefined);
  });
});
