// Every statement of the hot path (webhook intake, a step batch, the send stage's claim and
// outcome) run for real on a message_history of a million rows, captured as it was sent, then
// re-run under EXPLAIN ANALYZE (in a transaction that is rolled back). Reports each statement's
// execution time and whether its plan reads message_history or user_conversations sequentially,
// for the plan made for its values and for the generic plan PostgreSQL may keep for a prepared
// statement (docs/decisions/0012) after five calls.
import type { Knex } from 'knex';
// @ts-expect-error node-postgres ships no types for its own value encoder
import { prepareValue } from 'pg/lib/utils.js';
import { startConversation } from '../machines/index.js';
import { createIntakeService } from '../src/conversations/intake-service.js';
import { createOutboxRepository } from '../src/deliveries/outbox-repository.js';
import { createFlowVersionStore } from '../src/flows/flow-versions.js';
import { buildTestDeps } from '../test/support/test-deps.js';
import { insertFlow } from '../test/support/flow-builder.js';
import { createTestStepEngine } from '../test/support/test-step-engine.js';
import { textMessage } from '../test/support/webhook-payloads.js';

export interface ExplainedPlan {
  /** Undefined when the statement could not run again (a write that conflicts with its own first run): plan only. */
  readonly executionMs: number | undefined;
  readonly seqScans: string[];
  readonly indexes: string[];
}

export interface ExplainedStatement extends ExplainedPlan {
  readonly label: string;
  /** The same statement prepared and planned without its values (plan_cache_mode = force_generic_plan). */
  readonly generic: ExplainedPlan;
}

export interface HotQueryReport {
  readonly messageHistoryRows: number;
  readonly statements: ExplainedStatement[];
}

interface Captured {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, visit: (node: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

/** The hot path's own statements, and extra ones it names (e.g. the send stage's), explained. */
export async function runHotQueryBench(options: {
  contacts: number;
  extra?: (deps: Awaited<ReturnType<typeof buildTestDeps>>) => Promise<void>;
}): Promise<HotQueryReport> {
  const deps = await buildTestDeps();
  try {
    const flow = await insertFlow(deps.db, [
      { name: 'Menu', keywords: ['menu'], messages: [{ text: 'Olá!', waitForResponse: false }, { text: 'Escolha 1' }] },
      { name: 'Um', keywords: ['1'], messages: [{ text: 'Um.' }] },
    ]);
    const version = await createFlowVersionStore(deps).forNewConversation();
    // Every conversation rests on the menu, as after a greeting.
    const resting = startConversation(version!.flow, { id: 0, name: 'Maria', number: '5511999990000' }, {
      type: 'USER_INPUT', text: 'oi', file: null, at: Date.now(), cooldownMs: 0,
    }).snapshot;
    // 10 rows per contact, half of them replies, one active conversation each: a table of a
    // million rows that looks like a year of a busy helpdesk.
    await deps.db.raw(
      `INSERT INTO user_conversations (contact_id, flow_id, flow_version_id, conversation_state, last_activity_at)
       SELECT c, ?, ?, ?::jsonb, now() - interval '1 hour' FROM generate_series(1, ?) AS c`,
      [flow.flowId, version!.versionId, JSON.stringify(resting), options.contacts],
    );
    await deps.db.raw(
      `INSERT INTO message_history (conversation_id, contact_id, ticket_id, direction, body, status, due_at, sent_at, created_at)
       SELECT uc.id, uc.contact_id, uc.contact_id + 1000000, CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
              'mensagem ' || k, CASE WHEN k % 2 = 0 THEN 'processed' ELSE 'sent' END,
              now() - interval '1 day' + k * interval '1 minute', now() - interval '1 day' + k * interval '1 minute',
              now() - interval '1 day' + k * interval '1 minute'
         FROM user_conversations uc CROSS JOIN generate_series(1, 10) AS k`,
    );
    // A backlog of 2,000 contacts waiting to be answered, so a step batch's statements have work
    // when they are explained again after the real run.
    await deps.db.raw(
      `INSERT INTO message_history (contact_id, ticket_id, direction, body, status, due_at)
       SELECT c, c + 1000000, 'inbound', 'menu', 'received', now() - interval '1 second'
         FROM generate_series(?::int, ?::int) AS c`,
      [Math.floor(options.contacts / 2), Math.floor(options.contacts / 2) + 1_999],
    );
    await deps.db.raw('ANALYZE');
    const rows = Number((await deps.db.raw('SELECT count(*) AS n FROM message_history')).rows[0].n);

    const captured: Captured[] = [];
    const capture = (query: { sql: string; bindings?: unknown[] }) => {
      if (!/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(query.sql.trim())) {
        captured.push({ sql: query.sql, bindings: query.bindings ?? [] });
      }
    };
    deps.db.on('query', capture);
    // Intake of new messages from existing contacts, then one step batch that answers them.
    const intake = createIntakeService(deps);
    await Promise.all(
      Array.from({ length: 32 }, (_, index) => intake.receive(textMessage({ contactId: 1 + index * 997 }, 'menu'))),
    );
    const engine = createTestStepEngine(deps);
    await engine.runBatch();
    // The send stage: claim the replies that batch queued, record them sent.
    const outbox = createOutboxRepository(deps.db);
    const claimed = await outbox.claim(128, 15_000);
    await outbox.recordOutcomes(claimed.replies.map((reply) => ({ id: reply.id, claimedUntil: reply.claimedUntil, kind: 'sent', status: 'sent' })));
    await options.extra?.(deps);
    deps.db.off('query', capture);

    const statements: ExplainedStatement[] = [];
    const seen = new Set<string>();
    for (const statement of captured) {
      if (seen.has(statement.sql)) continue;
      seen.add(statement.sql);
      statements.push(await explain(deps.db, statement));
    }
    return { messageHistoryRows: rows, statements };
  } finally {
    await deps.testDb.drop();
  }
}

async function explain(db: Knex, statement: Captured): Promise<ExplainedStatement> {
  const client = (await db.client.acquireConnection()) as import('pg').PoolClient;
  try {
    const run = async (analyze: boolean, generic: boolean) => {
      const options = `${analyze ? 'ANALYZE, ' : ''}FORMAT JSON`;
      let prepared = false;
      await client.query('BEGIN');
      try {
        let explained = `EXPLAIN (${options}) ${statement.sql}`;
        let values = statement.bindings as unknown[];
        if (generic) {
          await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
          await client.query(`PREPARE hot_generic AS ${statement.sql}`);
          prepared = true;
          // A utility statement takes no bound parameters: the values go in as literals, written
          // as node-postgres would have sent them.
          const literals = statement.bindings.map((value) => {
            const text = prepareValue(value) as string | null;
            return text === null ? 'NULL' : client.escapeLiteral(String(text));
          });
          explained = `EXPLAIN (${options}) EXECUTE hot_generic${literals.length > 0 ? `(${literals.join(', ')})` : ''}`;
          values = [];
        }
        const result = await client.query(explained, values);
        return (result.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time'?: number }>)[0]!;
      } finally {
        await client.query('ROLLBACK');
        // PREPARE outlives a rolled-back transaction. Only this name: the pool's connection holds
        // the service's own prepared statements too.
        if (prepared) await client.query('DEALLOCATE hot_generic');
      }
    };
    const summarise = async (generic: boolean): Promise<ExplainedPlan> => {
      const plan = await run(true, generic).catch(() => run(false, generic));
      const seqScans: string[] = [];
      const indexes = new Set<string>();
      walk(plan.Plan, (node) => {
        if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) seqScans.push(node['Relation Name']);
        if (node['Index Name']) indexes.add(node['Index Name']);
      });
      return { executionMs: plan['Execution Time'], seqScans, indexes: [...indexes] };
    };
    return { label: labelOf(statement.sql), ...(await summarise(false)), generic: await summarise(true) };
  } finally {
    await db.client.releaseConnection(client);
  }
}

function labelOf(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  const names = [...flat.matchAll(/\b(\w+) AS (?:MATERIALIZED )?\(/g)].map((match) => match[1]);
  const head = flat.slice(0, 48);
  return names.length > 0 ? `${head}… [${names.join(', ')}]` : head;
}
