import type { Knex } from 'knex';
import type { Logger } from '../shared/logger.js';
import type { PgListener } from '../shared/pg-listener.js';
import { ACTIONS_CHANNEL } from '../shared/wake-channels.js';
import { createWakeSignal } from '../shared/wake-signal.js';
import { ActionError } from './action-errors.js';
import type { ActionHandler } from './action-handlers.js';
import { claimRuns, nextRunDue, recordFailure, recordRetry, recordSuccess, type ActionRun } from './action-run-repository.js';

// The action executor (ADR 0008): claims due action_runs with a lease, runs up to `concurrency`
// of them at once (one at a time per contact, in order), and records each outcome. Success is
// recorded before anything is fed back, so a succeeded action is never called again; the step
// engine feeds outcomes to the waiting conversations.

export interface ActionExecutorOptions {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly idlePollMs: number;
  /**
   * Runs between a call's return and its record. Tests make it fail to model a worker that died
   * right after the call (the run's lease then runs out and the call is made once more).
   */
  readonly beforeRecord?: (run: ActionRun) => Promise<void>;
}

export interface ActionExecutor {
  start(): Promise<void>;
  poke(): void;
  /** Claims and runs one round; resolves when its calls are recorded (tests). */
  runOnce(): Promise<number>;
  running(): boolean;
  stop(): Promise<void>;
}

/** The second claim of a run whose lease ran out is not called: at most one duplicate call. */
export const MAX_UNCERTAIN_CLAIMS = 2;
const MAX_BACKOFF_MS = 5 * 60_000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;

export function actionBackoffMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

export function createActionExecutor(deps: {
  db: Knex;
  logger: Logger;
  handlers: Record<string, ActionHandler>;
  listener?: PgListener;
  options: ActionExecutorOptions;
  /** An outcome is ready to be fed back: the step engine's poke (same process). */
  onOutcome?: () => void;
  /** Each call's result, for metrics (`flowbot_actions_total{type,result}`). Must not throw. */
  onCounted?: (type: string, result: 'succeeded' | 'retry' | 'failed') => void;
}): ActionExecutor {
  const { db, options } = deps;
  const log = deps.logger.child({ component: 'actions' });
  const wake = createWakeSignal();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let loop: Promise<void> | undefined;

  async function execute(run: ActionRun): Promise<void> {
    const context = { runId: run.id, type: run.action_type, contactId: run.contact_id, attempt: run.attempts };
    if (run.uncertain_attempts >= MAX_UNCERTAIN_CLAIMS) {
      const reason = 'outcome unknown twice (a worker stopped mid-call): not repeated to avoid another duplicate';
      log.error(context, reason);
      deps.onCounted?.(run.action_type, 'failed');
      if (await recordFailure(db, run.id, reason)) deps.onOutcome?.();
      return;
    }
    const handler = deps.handlers[run.action_type];
    let result: string;
    try {
      if (!handler) throw new ActionError(`unknown action type ${run.action_type}`, false);
      result = await handler(run);
    } catch (error) {
      const failure = error instanceof ActionError ? error : new ActionError(error instanceof Error ? error.message : String(error), true);
      if (failure.retryable && run.attempts < options.maxAttempts) {
        const delay = failure.retryAfterMs !== undefined ? Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS) : actionBackoffMs(run.attempts, options.retryBaseMs);
        log.warn({ ...context, reason: failure.message, retryInMs: delay }, 'action failed; retrying');
        deps.onCounted?.(run.action_type, 'retry');
        await recordRetry(db, run.id, failure.message, new Date(Date.now() + delay));
      } else {
        const reason = failure.retryable ? `${failure.message} (gave up after ${run.attempts} attempts)` : failure.message;
        log.warn({ ...context, reason }, 'action failed');
        deps.onCounted?.(run.action_type, 'failed');
        if (await recordFailure(db, run.id, reason)) deps.onOutcome?.();
      }
      return;
    }
    // Between here and the record a crash repeats the call once (the lease runs out): ADR 0008.
    await options.beforeRecord?.(run);
    const toFeed = await recordSuccess(db, run.id, result);
    log.info(context, 'action done');
    deps.onCounted?.(run.action_type, 'succeeded');
    if (toFeed) deps.onOutcome?.();
  }

  function track(run: ActionRun): Promise<void> {
    const task = execute(run)
      .catch((error: unknown) => {
        // Not recorded (the database went away, or a simulated crash): the lease runs out and
        // another claim repeats the run, counted as uncertain.
        log.error({ runId: run.id, err: error instanceof Error ? error.message : String(error) }, 'action outcome not recorded; its lease will run out');
      })
      .finally(() => {
        inFlight.delete(task);
        wake.poke();
      });
    inFlight.add(task);
    return task;
  }

  async function runOnce(): Promise<number> {
    const runs = await claimRuns(db, options.concurrency - inFlight.size, options.leaseMs);
    await Promise.all(runs.map(track));
    return runs.length;
  }

  async function mainLoop(): Promise<void> {
    while (!stopping) {
      let claimed = 0;
      try {
        const runs = await claimRuns(db, options.concurrency - inFlight.size, options.leaseMs);
        claimed = runs.length;
        for (const run of runs) void track(run);
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'claiming actions failed; retrying');
      }
      if (stopping) break;
      if (claimed > 0 && inFlight.size < options.concurrency) continue;
      let sleepMs = options.idlePollMs;
      const next = await nextRunDue(db).catch(() => undefined);
      if (next) sleepMs = Math.min(sleepMs, Math.max(0, next.getTime() - Date.now()));
      await wake.wait(sleepMs);
    }
  }

  return {
    async start() {
      await deps.listener?.listen(ACTIONS_CHANNEL, () => wake.poke());
      loop = mainLoop();
    },
    poke: () => wake.poke(),
    runOnce,
    running: () => loop !== undefined && !stopping,
    async stop() {
      stopping = true;
      wake.poke();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
