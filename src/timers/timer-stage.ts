// The timer stage (docs/decisions/0007): one loop per worker process that claims contacts with a
// due timer under the contact's step lock and feeds each timer's event through the step path.
// It sleeps until the next due time (at most WORKER_POLL_INTERVAL_MS): steps send no NOTIFY.
import type { CoreDeps } from '../app-deps.js';
import { tryLockContactForStep } from '../conversations/contact-lock.js';
import { blockedReason, type StepEnvironment } from '../conversations/contact-step.js';
import { readContactStates, writeBatch, type BatchWrites } from '../conversations/step-repository.js';
import { emptyStepWrites } from '../effects/step-writes.js';
import type { FlowVersionStore } from '../flows/flow-versions.js';
import type { PgListener } from '../shared/pg-listener.js';
import { TIMERS_CHANNEL } from '../shared/wake-channels.js';
import { createBatchLoop } from '../shared/batch-loop.js';
import type { IntakePriority } from '../shared/intake-priority.js';
import {
  claimDueTimerContacts,
  endHolds,
  nextTimerDue,
  readDueTimers,
  recordTimerFailure,
  settleTimers,
  type DueTimerRow,
  type TimerSettlement,
} from './timer-repository.js';
import { stepDueTimers } from './timer-step.js';

export interface TimerStageOptions {
  readonly batchSize: number;
  /** Batches this process runs at once (default 1). */
  readonly concurrency?: number;
  /** Longest sleep when nothing is due and no notification came. */
  readonly idlePollMs: number;
}

export interface TimerStageDeps extends Pick<CoreDeps, 'db' | 'logger' | 'settings'> {
  readonly flowVersions: FlowVersionStore;
  readonly listener?: PgListener;
  readonly options: TimerStageOptions;
  /** Called after a batch that queued replies committed (the send stage's poke). */
  readonly onReplies?: () => void;
  readonly now?: () => number;
  /** Webhooks first in a process that also takes them (ADR 0009). */
  readonly priority?: IntakePriority;
}

export interface TimerBatchReport {
  readonly claimed: number;
  readonly fired: number;
  readonly cancelled: number;
}

export interface TimerStage {
  start(): Promise<void>;
  poke(): void;
  runBatch(): Promise<TimerBatchReport>;
  running(): boolean;
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

function emptyBatchWrites(): BatchWrites {
  return { ...emptyStepWrites(), conversations: [], processed: [], cancelled: [], failures: [] };
}

export function createTimerStage(deps: TimerStageDeps): TimerStage {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'timer-stage' });
  const concurrency = Math.max(1, deps.options.concurrency ?? 1);

  async function environment(at: number): Promise<StepEnvironment> {
    const settings = await deps.settings.current();
    return {
      now: at,
      cooldownMs: settings.MESSAGE_COOLDOWN * 1000,
      timeoutMs: settings.CONVERSATION_TIMEOUT_MINUTES * 60_000,
      businessHours: settings.BUSINESS_HOURS,
      handoffResumeMs: settings.HANDOFF_RESUME_MINUTES * 60_000,
      versionOf: (versionId) => deps.flowVersions.get(versionId),
      defaultVersion: () => Promise.reject(new Error('a timer never starts a conversation')),
      log,
      // Timer steps publish no inspection frames yet (their event is not a contact's input).
      inspection: null,
    };
  }

  /** One transaction over `contacts` (already claimed, or to be try-locked one by one). */
  async function fire(contactFilter: number[] | null): Promise<TimerBatchReport & { replies: number }> {
    const at = now();
    const env = await environment(at);
    return deps.db.transaction(async (trx) => {
      let contacts: number[];
      if (contactFilter === null) {
        contacts = await claimDueTimerContacts(trx, new Date(at), deps.options.batchSize);
      } else {
        const [contactId] = contactFilter;
        contacts = contactId !== undefined && (await tryLockContactForStep(trx, contactId)) ? [contactId] : [];
      }
      if (contacts.length === 0) return { claimed: 0, fired: 0, cancelled: 0, replies: 0 };
      const timers = await readDueTimers(trx, contacts, new Date(at));
      const states = await readContactStates(trx, contacts);
      const writes = emptyBatchWrites();
      const settled: TimerSettlement[] = [];
      const holds: number[] = [];
      let fired = 0;
      for (const state of states) {
        const own = timers.filter((timer) => timer.contact_id === state.contactId);
        if (own.length === 0) continue;
        const result = await stepDueTimers(state, own, env, writes);
        settled.push(...result.settled);
        holds.push(...result.holdsEnded);
        fired += result.fired;
      }
      // Settled first: the batch write then cancels only what is still pending.
      await settleTimers(trx, settled);
      await writeBatch(trx, writes);
      await endHolds(trx, holds, 'handoff_ended');
      return {
        claimed: contacts.length,
        fired: fired + holds.length,
        cancelled: settled.filter((s) => s.status === 'cancelled').length,
        replies: writes.outbox.length,
      };
    });
  }

  async function runBatch(): Promise<TimerBatchReport> {
    let report: TimerBatchReport & { replies: number };
    try {
      report = await fire(null);
    } catch (error) {
      log.warn({ err: blockedReason(error) }, 'timer batch failed; firing its contacts one by one');
      report = await oneByOne();
    }
    if (report.replies > 0) deps.onReplies?.();
    return report;
  }

  /** After a failed batch: each due contact alone, so one bad conversation holds nobody back. */
  async function oneByOne(): Promise<TimerBatchReport & { replies: number }> {
    const due = (await deps.db('conversation_timers')
      .where('status', 'pending')
      .andWhere('due_at', '<=', new Date(now()))
      .orderBy('due_at')
      .limit(deps.options.batchSize)
      .select('id', 'contact_id', 'attempts')) as Array<Pick<DueTimerRow, 'id' | 'contact_id' | 'attempts'>>;
    const total = { claimed: 0, fired: 0, cancelled: 0, replies: 0 };
    for (const contactId of new Set(due.map((row) => Number(row.contact_id)))) {
      try {
        const report = await fire([contactId]);
        total.claimed += report.claimed;
        total.fired += report.fired;
        total.cancelled += report.cancelled;
        total.replies += report.replies;
      } catch (error) {
        const rows = due.filter((row) => Number(row.contact_id) === contactId);
        const ids = rows.map((row) => Number(row.id));
        const attempts = Math.max(0, ...rows.map((row) => row.attempts));
        const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempts);
        const reason = blockedReason(error);
        log.error({ contactId, timers: ids, err: reason, retryInMs: delay }, 'timer step failed; retrying later');
        await recordTimerFailure(deps.db, ids, reason, new Date(now() + delay)).catch(() => undefined);
      }
    }
    return total;
  }

  const loop = createBatchLoop({
    name: 'timer',
    concurrency,
    batchSize: deps.options.batchSize,
    idlePollMs: deps.options.idlePollMs,
    runBatch,
    nextDue: () => nextTimerDue(deps.db),
    ...(deps.listener ? { listen: (onNotify: () => void) => deps.listener!.listen(TIMERS_CHANNEL, onNotify) } : {}),
    now,
    log,
    ...(deps.priority ? { priority: deps.priority } : {}),
  });

  return { ...loop, runBatch };
}
