// SPEC §8 × §9: an action's outcome fed to a conversation is an event viewers see, its value
// masked like a text unless INSPECT_SHOW_TEXT.
import { expect } from 'chai';
import { maskInput } from '../../src/inspection/inspection-frames.js';

describe('inspection of action outcomes', () => {
  const outcome = { type: 'ACTION_RESULT' as const, messageId: 12, index: 0, ok: false, value: '', error: 'Pontta answered 400: Maria' };
  it('hides the value and the reason unless texts are shown', () => {
    expect(maskInput({ ...outcome, ok: true, value: '981', error: '' }, { showText: false })).to.deep.equal({ type: 'ACTION_RESULT', messageId: 12, index: 0, ok: true, valueLength: 3, error: '' });
    expect(maskInput(outcome, { showText: false })).to.deep.include({ ok: false, error: '(hidden)' });
    expect(maskInput(outcome, { showText: true })).to.deep.equal(outcome);
  });
});
