// Issue 3 acceptance: random bodies at every documented write route. Every answer is a 2xx or a
// 4xx with an `errors` array (never a 500), a body the documented schema rejects is a 400, a
// refused request changes nothing, and the flow tables stay consistent whatever was accepted.
import { expect } from 'chai';
import fc from 'fast-check';
import { allRouteDocs } from '../../src/http/openapi/all-route-docs.js';
import type { RouteDoc } from '../../src/http/openapi/route-doc.js';
import { settingKeys } from '../../src/settings/setting-definitions.js';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

const RUNS_PER_ROUTE = 25;
const ownTags = new Set(['templates', 'flows', 'subflows', 'messages', 'flow tooling', 'settings', 'bot']);
const countedTables = ['flow_templates', 'flows', 'subflows', 'flow_messages', 'system_settings', 'activity_logs'] as const;

describe('property: random bodies at every write route', function () {
  this.timeout(60_000);
  let app: HttpTestApp;
  let ids: number[];

  before(async () => {
    app = await startHttpTestApp();
    const admin = { admin: (method: string, path: string, body?: unknown) => app.api(method, path, body) };
    const built = await buildFlowThroughApi(admin, [
      { name: 'menu', keywords: ['menu'], messages: [{ text: 'Oi', waitForResponse: false }, { text: 'Menu' }] },
      { name: 'um', keywords: ['1'], parent: 'menu', messages: [{ text: 'Nome?', saveResponseAs: 'nome' }, { text: 'Ok {{nome}}', waitForResponse: false }] },
    ]);
    await buildFlowThroughApi(admin, [{ name: 'b', messages: [{ text: 'B' }] }], { isDefault: false, name: 'Outro' });
    ids = [built.templateId, built.flowId, ...Object.values(built.subflowIds), ...Object.values(built.messageIds).flat(), 999_999];
  });
  after(() => app.close());

  const hugeText = fc.constantFrom('x'.repeat(5_000), 'ç'.repeat(70_000), '🙂'.repeat(3_000));
  const value = (idPool: () => number[]) =>
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom(null, true, false, 0, -1, 1.5, '', '  ', '{{nome}}', 'pdf', 'text', 2_147_483_648),
      fc.constantFrom(...idPool()),
      fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...idPool())), { maxLength: 6 }),
      hugeText,
    );

  function bodyFor(doc: RouteDoc): fc.Arbitrary<unknown> {
    const fields = doc.body && 'shape' in doc.body ? Object.keys((doc.body as unknown as { shape: object }).shape) : [];
    const known = fields.length === 0
      ? fc.constant({})
      : fc.dictionary(fc.constantFrom(...fields), value(() => ids), { maxKeys: fields.length });
    return fc.oneof(
      { weight: 5, arbitrary: fc.tuple(known, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
  }

  function pathFor(doc: RouteDoc): fc.Arbitrary<string> {
    if (!doc.path.includes(':')) return fc.constant(doc.path);
    const param = doc.path.includes(':key')
      ? fc.constantFrom(...settingKeys, 'NOPE', 'bot_enabled')
      : fc.constantFrom(...ids.map(String));
    return param.map((id) => doc.path.replace(/:[A-Za-z]+/, encodeURIComponent(id)));
  }

  async function counts(): Promise<Record<string, number>> {
    const entries = await Promise.all(
      countedTables.map(async (table) => [table, Number((await app.deps.db(table).count({ n: '*' }).first())?.n)] as const),
    );
    return Object.fromEntries(entries);
  }

  async function checkConsistency(): Promise<void> {
    const db = app.deps.db;
    const defaults = await db('flows').where({ is_default: true, is_active: true }).count({ n: '*' }).first();
    expect(Number(defaults?.n), 'active defaults').to.be.at.most(1);
    const orphanFlows = await db('flows as f').join('flow_templates as t', 't.id', 'f.template_id').where({ 'f.is_active': true, 't.is_active': false }).select('f.id');
    expect(orphanFlows, 'active flows of an inactive template').to.deep.equal([]);
    const badParents = await db('subflows as s')
      .join('subflows as p', 'p.id', 's.parent_subflow_id')
      .where('s.is_active', true)
      .andWhere((q) => q.where('p.is_active', false).orWhereRaw('p.flow_id <> s.flow_id'))
      .select('s.id');
    expect(badParents, 'active subflows under an inactive or foreign parent').to.deep.equal([]);
  }

  // Deletions last (children before parents), so the other routes meet live rows.
  const writes = allRouteDocs.filter((doc) => doc.method !== 'get' && doc.auth !== false);
  const writeDocs = [...writes.filter((doc) => doc.method !== 'delete'), ...writes.filter((doc) => doc.method === 'delete').reverse()];

  it('covers the write routes', () => {
    expect(writeDocs.length).to.be.greaterThan(20);
  });

  for (const doc of writeDocs) {
    it(`${doc.method.toUpperCase()} ${doc.path}`, async () => {
      await fc.assert(
        fc.asyncProperty(pathFor(doc), bodyFor(doc), async (path, body) => {
          const before = await counts();
          const answer = await app.api(doc.method.toUpperCase(), path, body);
          const label = `${doc.method} ${path} ${JSON.stringify(body)?.slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`;
          expect(answer.status, label).to.be.within(200, 499);
          if (answer.status >= 400) {
            expect(answer.body.errors, label).to.be.an('array').with.length.greaterThan(0);
            expect(await counts(), `refused, yet changed: ${label}`).to.deep.equal(before);
          }
          const sent = body === undefined ? {} : JSON.parse(JSON.stringify(body));
          if (doc.body && sent !== null && typeof sent === 'object' && !Array.isArray(sent) && !doc.body.safeParse(sent).success) {
            if (ownTags.has(doc.tag)) expect(answer.status, `documented schema rejects: ${label}`).to.equal(400);
            else expect(answer.status, `documented schema rejects: ${label}`).to.be.within(400, 499);
          }
          await checkConsistency();
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    });
  }
});
