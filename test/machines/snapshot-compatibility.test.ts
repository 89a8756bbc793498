// Conversations outlive deployments: a snapshot persisted by an earlier version of this code (and
// of xstate) must still restore and answer the same way. The fixture was recorded once and is
// never regenerated; add a new fixture when the format changes on purpose, keep the old ones.
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { compileFlow, flowDefinitionSchema, stepConversation, type UserInput } from '../../machines/index.js';

const folder = new URL('../fixtures/snapshots/', import.meta.url);

interface RecordedStep {
  input: UserInput;
  snapshotBefore?: unknown;
  effects: unknown[];
  snapshotAfter: unknown;
}

describe('snapshots saved by earlier versions', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.json'))) {
    it(`restores and steps every snapshot of ${file}`, () => {
      const recording = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as {
        definition: unknown;
        steps: RecordedStep[];
      };
      const flow = compileFlow(flowDefinitionSchema.parse(recording.definition));
      const replayed = recording.steps.filter((step) => step.snapshotBefore !== undefined);
      expect(replayed.length).to.be.greaterThan(3);
      for (const step of replayed) {
        const result = stepConversation(flow, step.snapshotBefore, step.input);
        expect(result.effects, JSON.stringify(step.input)).to.deep.equal(step.effects);
        expect(result.snapshot).to.deep.equal(step.snapshotAfter);
      }
    });
  }

  it('runs on the exact xstate version the snapshots were written with', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    // A caret range would let a fresh install pick a newer xstate than the one we verified.
    expect(pkg.dependencies.xstate).to.match(/^\d+\.\d+\.\d+$/);
  });
});
