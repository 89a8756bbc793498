import { expect } from 'chai';
import {
  createDefaultFlowHealth,
  problemsIntroduced,
  type DefaultFlowState,
} from '../../src/flows/default-flow-health.js';
import { insertFlow } from '../support/flow-builder.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const ok = (flowId: number): DefaultFlowState => ({ status: 'ok', flowId });
const broken = (flowId: number, ...problems: string[]): DefaultFlowState => ({ status: 'broken', flowId, problems });
const missing: DefaultFlowState = { status: 'missing' };

describe('default flow health', () => {
  describe('problemsIntroduced (what an admin write may leave behind)', () => {
    it('refuses breaking a default that compiles, or replacing it by one that does not', () => {
      expect(problemsIntroduced(ok(1), broken(1, 'p'))).to.deep.equal(['p']);
      expect(problemsIntroduced(ok(1), broken(2, 'p', 'q'))).to.deep.equal(['p', 'q']);
    });

    it('allows whatever leaves a compiling default or none', () => {
      expect(problemsIntroduced(ok(1), ok(1))).to.equal(null);
      expect(problemsIntroduced(ok(1), ok(2))).to.equal(null);
      expect(problemsIntroduced(ok(1), missing)).to.equal(null);
      expect(problemsIntroduced(broken(1, 'p'), ok(1))).to.equal(null);
      expect(problemsIntroduced(missing, missing)).to.equal(null);
    });

    it('on the way to a working default, refuses only problems that were not there before', () => {
      expect(problemsIntroduced(missing, broken(1, 'p'))).to.equal(null);
      expect(problemsIntroduced(broken(1, 'p', 'q'), broken(1, 'p'))).to.equal(null);
      expect(problemsIntroduced(broken(1, 'p'), broken(1, 'p', 'q'))).to.deep.equal(['q']);
      expect(problemsIntroduced(broken(1, 'p'), broken(2, 'q'))).to.equal(null);
    });
  });

  describe('createDefaultFlowHealth', () => {
    let testDb: TestDatabase;
    before(async () => {
      testDb = await createTestDatabase();
    });
    after(() => testDb.drop());

    it('checks the database at most once per ttl', async () => {
      let now = 0;
      const health = createDefaultFlowHealth({ db: testDb.db }, { ttlMs: 2_000, now: () => now });
      expect(await health.current()).to.deep.equal({ status: 'missing' });
      const flow = await insertFlow(testDb.db, [{ name: 'a', messages: [{ text: 'A' }] }]);
      now = 1_999;
      expect(await health.current()).to.deep.equal({ status: 'missing' });
      now = 2_000;
      expect(await health.current()).to.deep.equal({ status: 'ok', flowId: flow.flowId });
      await testDb.db('flow_messages').update({ is_active: false });
      now = 4_000;
      expect(await health.current()).to.deep.equal({ status: 'broken', flowId: flow.flowId, problems: ['no subflow has messages'] });
    });
  });
});
