import type { CoreDeps } from '../app-deps.js';
import type { ClaimedReply } from '../deliveries/outbox-repository.js';
import type { SendReservation } from '../deliveries/send-stage.js';
import { appendStepWrites, emptyStepWrites } from '../effects/step-writes.js';
import type { FlowVersion, FlowVersionStore } from '../flows/flow-versions.js';
import type { PgListener } from '../shared/pg-listener.js';
import { INBOX_CHANNEL } from '../shared/wake-channels.js';
import { createBatchLoop } from '../shared/batch-loop.js';
import { cpuSlices } from '../shared/cpu-slices.js';
import type { IntakePriority } from '../shared/intake-priority.js';
import { blockedReason, stepContact, StepBlockedError, type ContactStepOutcome, type StepEnvironment } from './contact-step.js';
import { tryLockContactForStep } from './contact-lock.js';
import {
  claimDueContacts,
  nextInboxDue,
  readContactStates,
  recordStepFailure,
  NO_LEASES,
  writeBatch,
  type BatchWrites,
  type ContactState,
  type StepFailure,
} from './step-repository.js';

export interface StepEngineOptions {
  readonly batchSize: number;
  /** Batches this process runs at once. */
  readonly concurrency: number;
  /** Longest sleep when nothing is due and no notification came. */
  readonly idlePollMs: number;
}

export interface StepEngineDeps extends Pick<CoreDeps, 'db' | 'logger' | 'settings'> {
  readonly flowVersions: FlowVersionStore;
  /** Absent in tests that drive `runBatch` themselves. */
  readonly listener?: PgListener;
  readonly options: StepEngineOptions;
  /** Called after a batch committed replies it did not hand to `sends` (the send stage's poke). */
  readonly onReplies?: () => void;
  /** The send stage of this process: a batch leases its contacts' next replies itself (ADR 0013). */
  readonly sends?: { reserve(limit: number): SendReservation };
  /** Called after a batch that requested flow actions committed (the action executor's poke). */
  readonly onActions?: () => void;
  /** Is anyone watching conversations live? Asked once per batch; must be cheap (src/inspection). */
  readonly inspection?: { watching(): boolean };
  /** Each write set that committed, after its COMMIT (inspection frames, metrics). Must not throw. */
  readonly onCommitted?: (writes: BatchWrites) => void;
  /** epoch ms; tests may pin it */
  readonly now?: () => number;
  /** Webhooks first in a process that also takes them (ADR 0009). */
  readonly priority?: IntakePriority;
}

export type StepOutcome = ContactStepOutcome | { readonly kind: 'failed'; readonly error: string };

export interface BatchReport {
  readonly claimed: number;
  readonly outcomes: ReadonlyMap<number, StepOutcome>;
}

export interface StepEngine {
  start(): Promise<void>;
  /** Work was committed (a webhook in this process): look now rather than at the next poll. */
  poke(): void;
  /** One batch, as the loop runs it. */
  runBatch(): Promise<BatchReport>;
  running(): boolean;
  /** Lets the batches in progress finish, then returns. */
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;
// A flow that cannot run is usually fixed by an admin within minutes: look again sooner.
const MAX_BLOCKED_RETRY_MS = 30_000;

function emptyBatchWrites(): BatchWrites {
  return { ...emptyStepWrites(), conversations: [], processed: [], cancelled: [], failures: [] };
}

function mergeInto(target: BatchWrites, source: BatchWrites): void {
  appendStepWrites(target, source);
  target.conversations.push(...source.conversations);
  target.processed.push(...source.processed);
  target.cancelled.push(...source.cancelled);
  target.failures.push(...source.failures);
}

/**
 * The batched step engine (ADR 0004): claims contacts whose inputs are due, steps them in memory
 * and writes every result with one statement per batch. A contact whose step fails is left out
 * and retried alone later; its inputs stay in the inbox.
 */
export function createStepEngine(deps: StepEngineDeps): StepEngine {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'step-engine' });
  const { batchSize, concurrency, idlePollMs } = deps.options;

  async function environment(): Promise<Omit<StepEnvironment, 'now'>> {
    const settings = await deps.settings.current();
    let defaultVersion: Promise<FlowVersion> | undefined;
    return {
      cooldownMs: settings.MESSAGE_COOLDOWN * 1000,
      timeoutMs: settings.CONVERSATION_TIMEOUT_MINUTES * 60_000,
      businessHours: settings.BUSINESS_HOURS,
      handoffResumeMs: settings.HANDOFF_RESUME_MINUTES * 60_000,
      versionOf: (versionId) => deps.flowVersions.get(versionId),
      defaultVersion: () => {
        defaultVersion ??= deps.flowVersions.forNewConversation().then((version) => {
          if (!version) throw new StepBlockedError('no active default flow');
          return version;
        });
        return defaultVersion;
      },
      log,
      inspection: deps.inspection?.watching() ? { showText: settings.INSPECT_SHOW_TEXT } : null,
    };
  }

  function failureOf(state: ContactState, error: unknown, at: number): StepFailure {
    const blocked = error instanceof StepBlockedError;
    const attempts = Math.max(0, ...state.inbox.map((row) => row.attempts));
    const delay = Math.min(blocked ? MAX_BLOCKED_RETRY_MS : MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempts);
    const reason = blocked ? error.message : `step failed: ${blockedReason(error)}`;
    log.error({ contactId: state.contactId, conversationId: state.conversation?.id, inputs: state.inbox.length, attempts: attempts + 1, retryInMs: delay, reason }, 'cannot answer contact now; its messages stay in the inbox');
    return { contactId: state.contactId, rowIds: state.inbox.map((row) => row.id), error: reason, retryAt: new Date(at + delay) };
  }

  /** Steps each contact into its own write set; a failing contact becomes a failure record. */
  async function stepAll(states: readonly ContactState[], base: Omit<StepEnvironment, 'now'>, writes: BatchWrites, outcomes: Map<number, StepOutcome>) {
    const env: StepEnvironment = { ...base, now: now() };
    const slices = cpuSlices();
    for (const state of states) {
      await slices.next();
      const own = emptyBatchWrites();
      try {
        const outcome = await stepContact(state, env, own);
        mergeInto(writes, own);
        outcomes.set(state.contactId, outcome);
      } catch (error) {
        const failure = failureOf(state, error, env.now);
        writes.failures.push(failure);
        outcomes.set(state.contactId, { kind: 'failed', error: failure.error });
      }
    }
  }

  async function runBatch(): Promise<BatchReport> {
    const base = await environment();
    const outcomes = new Map<number, StepOutcome>();
    const committed: BatchWrites[] = [];
    let claimed: number[] = [];
    const reservation = deps.sends?.reserve(batchSize);
    let leased: ClaimedReply[] = [];
    try {
      const writes = await deps.db.transaction(async (trx) => {
        claimed = await claimDueContacts(trx, new Date(now()), batchSize);
        if (claimed.length === 0) return undefined;
        const states = await readContactStates(trx, claimed);
        const batch = emptyBatchWrites();
        await stepAll(states, base, batch, outcomes);
        const ownLeases = await writeBatch(trx, batch, reservation ? { slots: reservation.slots, leaseMs: reservation.leaseMs, dueBy: now() } : NO_LEASES);
        return { batch, ownLeases };
      });
      if (writes) {
        committed.push(writes.batch);
        leased = writes.ownLeases;
      }
    } catch (error) {
      if (claimed.length === 0) throw error;
      // One contact's rows may have made the whole write fail: write each contact on its own.
      log.warn({ contacts: claimed.length, err: error instanceof Error ? error.message : String(error) }, 'batch write failed; stepping its contacts one by one');
      outcomes.clear();
      for (const contactId of claimed) {
        const writes = await stepAlone(contactId, base, outcomes);
        if (writes) committed.push(writes);
      }
    } finally {
      // Only what committed: a rolled-back batch's leases never existed.
      reservation?.start(leased);
    }
    afterCommit(committed, leased.length);
    return { claimed: claimed.length, outcomes };
  }

  /** Effects carried out only once their step committed (ADR 0005): the send stage's poke, then the hook. */
  function afterCommit(committed: readonly BatchWrites[], repliesStarted: number): void {
    const replies = committed.reduce((count, writes) => count + writes.outbox.length, 0);
    if (replies > repliesStarted) deps.onReplies?.();
    if (committed.some((writes) => writes.actionRuns.length > 0)) deps.onActions?.();
    if (!deps.onCommitted) return;
    for (const writes of committed) {
      try {
        deps.onCommitted(writes);
      } catch (error) {
        // The steps are committed whatever happens here: never report them as failed.
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'after-commit hook failed');
      }
    }
  }

  async function stepAlone(contactId: number, base: Omit<StepEnvironment, 'now'>, outcomes: Map<number, StepOutcome>): Promise<BatchWrites | undefined> {
    let state: ContactState | undefined;
    try {
      return await deps.db.transaction(async (trx) => {
        if (!(await tryLockContactForStep(trx, contactId))) return undefined;
        [state] = await readContactStates(trx, [contactId]);
        if (!state) return undefined;
        const writes = emptyBatchWrites();
        await stepAll([state], base, writes, outcomes);
        await writeBatch(trx, writes);
        return writes;
      });
    } catch (error) {
      if (!state) throw error;
      const failure = failureOf(state, error, now());
      outcomes.set(contactId, { kind: 'failed', error: failure.error });
      await recordStepFailure(deps.db, failure).catch((recordError: unknown) => {
        log.error({ contactId, conversationId: state?.conversation?.id, err: String(recordError) }, 'could not record a failed step; it is retried at the next poll');
      });
      return undefined;
    }
  }

  const loop = createBatchLoop({
    name: 'step',
    concurrency,
    batchSize,
    idlePollMs,
    runBatch,
    nextDue: () => nextInboxDue(deps.db, new Date(now())),
    ...(deps.listener ? { listen: (onNotify: () => void) => deps.listener!.listen(INBOX_CHANNEL, onNotify) } : {}),
    now,
    log,
    ...(deps.priority ? { priority: deps.priority } : {}),
  });

  return { ...loop, runBatch };
}
