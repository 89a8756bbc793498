// Durable timers at scale (ADR 0007), in this process against a fresh database, with the real
// step engine and timer stage (no HTTP, no GOSAC: replies stay in the outbox):
// - cost on steps: 10,000 contacts, each with an active conversation resting on a menu, answer it
//   once (an invalid answer: one re-prompt each). Flow without timers vs the same flow with a
//   reminder and closing, where every conversation holds a pending timer and every step cancels
//   it and stores a new one. Steps/s through `runBatch` (STEP_BATCH_SIZE 64, 2 loops).
// - firing: 10,000 conversations each with a reminder due within one second; the timer stage's
//   loops (as src/service.ts sets them: batches of 256, 2 loops) fire them. Fired/s and lateness
//   (fired − due) p50/p99/max.
import type { CoreDeps } from '../src/app-deps.js';
import { createStepEngine } from '../src/conversations/step-engine.js';
import { createFlowVersionStore } from '../src/flows/flow-versions.js';
import { createTimerStage } from '../src/timers/timer-stage.js';
import { startConversation } from '../machines/index.js';
import { insertFlow } from '../test/support/flow-builder.js';
import { buildTestDeps } from '../test/support/test-deps.js';
import { percentile } from './bench-environment.js';

export interface TimerBenchResult {
  conversations: number;
  stepsPerSecondWithout: number;
  stepsPerSecondWith: number;
  firedPerSecond: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
  /** Timers fired later than the 2 s precision target. */
  lateBeyond2s: number;
  maxRssBytes?: number;
}

const MENU = 'Escolha: 1 - orçamento, 2 - atendente';

async function withDeps<T>(body: (deps: CoreDeps) => Promise<T>): Promise<T> {
  const deps = await buildTestDeps({ LOG_LEVEL: 'silent' });
  try {
    return await body(deps);
  } finally {
    await deps.testDb.drop();
  }
}

/** A default flow (menu + one keyword subflow); with timers: a reminder on the menu and closing. */
async function seedFlow(deps: CoreDeps, timers: { reminderMinutes: number; closeMinutes: number } | null) {
  const flow = await insertFlow(deps.db, [
    { name: 'Início', messages: [{ text: MENU }] },
    { name: 'Um', keywords: ['1'], messages: [{ text: 'Qual ambiente?' }] },
  ]);
  if (timers) {
    await deps.db('flows').where({ id: flow.flowId }).update({ close_after_minutes: timers.closeMinutes, close_text: 'Tchau!' });
    await deps.db('flow_messages').where({ id: flow.messageIds['Início']![0] }).update({ reminder_after_minutes: timers.reminderMinutes });
  }
  const versions = createFlowVersionStore(deps);
  const version = (await versions.forNewConversation())!;
  return { version, versions };
}

/**
 * `count` active conversations on the menu (one statement), each with its machine timers stored
 * as a step would have stored them, due `dueInMs` from now (spread over `spreadMs`).
 */
async function seedConversations(deps: CoreDeps, seeded: Awaited<ReturnType<typeof seedFlow>>, count: number, dueInMs: number, spreadMs: number) {
  const start = startConversation(seeded.version.flow, { id: 1, name: 'Bench', number: '5500' }, { type: 'USER_INPUT', text: 'Oi', file: null, at: Date.now(), cooldownMs: 0 });
  const timers = start.effects.flatMap((effect) => (effect.kind === 'timer' ? [effect] : []));
  await deps.db.raw(
    `INSERT INTO user_conversations (contact_id, ticket_id, contact_name, contact_number, flow_id, flow_version_id, conversation_state,
                                     current_subflow_id, current_message_id)
     SELECT 2000000 + n, 3000000 + n, 'Bench', '5500', :flowId, :versionId, :state::jsonb, :subflowId, :messageId
       FROM generate_series(1, :count::int) AS n`,
    {
      flowId: seeded.version.flowId,
      versionId: seeded.version.versionId,
      state: JSON.stringify(start.snapshot),
      subflowId: start.position!.subflowId,
      messageId: start.position!.messageId,
      count,
    },
  );
  for (const timer of timers) {
    await deps.db.raw(
      `INSERT INTO conversation_timers (conversation_id, contact_id, kind, send_id, event, due_at)
       SELECT id, contact_id, 'machine', :sendId, :event::jsonb,
              now() + (:dueInMs + :spreadMs * random()) * interval '1 millisecond' + :delay * interval '1 millisecond'
         FROM user_conversations WHERE contact_id > 2000000`,
      { sendId: timer.sendId, event: JSON.stringify(timer.event), dueInMs, spreadMs, delay: timer.delayMs - timers[0]!.delayMs },
    );
  }
}

async function stepsPerSecond(deps: CoreDeps, count: number, timers: boolean): Promise<number> {
  const seeded = await seedFlow(deps, timers ? { reminderMinutes: 60, closeMinutes: 120 } : null);
  await seedConversations(deps, seeded, count, 3_600_000, 0);
  await deps.db.raw(
    `INSERT INTO message_history (contact_id, ticket_id, direction, body, media_type, status, due_at, gosac_message_id)
     SELECT contact_id, ticket_id, 'inbound', 'talvez', 'text', 'received', now(), 'bench-' || contact_id
       FROM user_conversations WHERE contact_id > 2000000`,
  );
  const engine = createStepEngine({ ...deps, flowVersions: seeded.versions, options: { batchSize: 64, concurrency: 2, idlePollMs: 1_000 } });
  const started = performance.now();
  let steps = 0;
  const loop = async () => {
    for (;;) {
      const report = await engine.runBatch();
      steps += [...report.outcomes.values()].filter((outcome) => outcome.kind === 'processed').length;
      if (report.claimed === 0) return;
    }
  };
  await Promise.all([loop(), loop()]);
  const seconds = (performance.now() - started) / 1000;
  if (steps !== count) throw new Error(`expected ${count} steps, ran ${steps}`);
  if (timers) {
    const pending = await deps.db('conversation_timers').where({ status: 'pending' }).count<Array<{ n: string }>>({ n: '*' });
    if (Number(pending[0]!.n) !== 2 * count) throw new Error(`expected ${2 * count} pending timers after the steps, found ${pending[0]!.n}`);
  }
  return steps / seconds;
}

async function firing(deps: CoreDeps, count: number) {
  const seeded = await seedFlow(deps, { reminderMinutes: 60, closeMinutes: 120 });
  // Only the reminder comes due in the window (the closing timer an hour later).
  await seedConversations(deps, seeded, count, 2_000, 1_000);
  await deps.db('conversation_timers').where({ status: 'pending' }).andWhere('send_id', 'like', '%120000%').update({ due_at: deps.db.raw("now() + interval '1 hour'") });
  // As the service configures it (src/service.ts): STEP_BATCH_SIZE × 4, STEP_CONCURRENCY loops.
  const stage = createTimerStage({ ...deps, flowVersions: seeded.versions, options: { batchSize: 256, concurrency: 2, idlePollMs: 1_000 } });
  await stage.start();
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      const left = await deps.db('conversation_timers').where({ status: 'pending' }).andWhere('due_at', '<', deps.db.raw("now() + interval '30 minutes'")).count<Array<{ n: string }>>({ n: '*' });
      if (Number(left[0]!.n) === 0) break;
      if (Date.now() > deadline) throw new Error(`timers still pending after 120 s: ${left[0]!.n}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await stage.stop();
  }
  const rows = (await deps.db.raw(
    `SELECT extract(epoch from finished_at - due_at) * 1000 AS late_ms, finished_at FROM conversation_timers
      WHERE status = 'fired' ORDER BY finished_at`,
  )) as { rows: Array<{ late_ms: string; finished_at: Date }> };
  if (rows.rows.length !== count) throw new Error(`expected ${count} fired timers, found ${rows.rows.length}`);
  const lateness = rows.rows.map((row) => Number(row.late_ms)).sort((a, b) => a - b);
  const first = rows.rows[0]!.finished_at.getTime();
  const last = rows.rows.at(-1)!.finished_at.getTime();
  return {
    firedPerSecond: count / Math.max(0.001, (last - first) / 1000),
    latenessP50Ms: percentile(lateness, 50),
    latenessP99Ms: percentile(lateness, 99),
    latenessMaxMs: lateness.at(-1)!,
    lateBeyond2s: lateness.filter((ms) => ms > 2_000).length,
  };
}

export async function runTimersBench(options: { conversations: number }): Promise<TimerBenchResult> {
  const count = options.conversations;
  const without = await withDeps((deps) => stepsPerSecond(deps, count, false));
  const withTimers = await withDeps((deps) => stepsPerSecond(deps, count, true));
  const fired = await withDeps((deps) => firing(deps, count));
  return { conversations: count, stepsPerSecondWithout: without, stepsPerSecondWith: withTimers, ...fired };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const conversations = Number(process.env.BENCH_TIMER_CONVERSATIONS ?? 10_000);
  console.log(JSON.stringify(await runTimersBench({ conversations }), null, 2));
}
