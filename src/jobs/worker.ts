import { Logger as GraphileLogger, run, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { CoreDeps } from '../app-deps.js';
import { createConversationRuntime } from '../conversations/conversation-runtime.js';
import { createFlowVersionStore } from '../flows/flow-versions.js';
import type { GosacClient } from '../integrations/gosac-client.js';
import type { Logger } from '../shared/logger.js';
import { DELIVER_CONTACT_TASK, PROCESS_CONTACT_TASK } from './job-queue.js';
import { PERIODIC_GRACE_MS, sweepStrandedWork } from './recovery-sweep.js';
import { createDeliverContactTask } from './tasks/deliver-contact.js';
import { createProcessContactTask } from './tasks/process-contact.js';

export interface RunningWorker {
  /** False once graphile-worker's runner has ended (stopped or crashed): readiness reports it. */
  running(): boolean;
  /**
   * Stops taking jobs and lets running ones finish for up to `graceMs`; after that they are
   * failed back to the queue (graphile-worker retries them, and our tables still say what is left).
   */
  stop(graceMs?: number): Promise<void>;
}

export interface WorkerDeps extends CoreDeps {
  readonly gosac: GosacClient;
}

const SWEEP_INTERVAL_MS = 30_000;

/** Starts graphile-worker with our tasks, plus the recovery sweep (now and every 30 s). */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const logger = deps.logger.child({ component: 'worker' });
  const flowVersions = createFlowVersionStore(deps);
  const runtime = createConversationRuntime({ ...deps, flowVersions, gosac: deps.gosac });
  const taskList: TaskList = {
    [PROCESS_CONTACT_TASK]: createProcessContactTask({ runtime, logger }),
    [DELIVER_CONTACT_TASK]: createDeliverContactTask({ db: deps.db, gosac: deps.gosac, logger }),
  };
  // Our own pool, so its lifetime is ours: graphile-worker's own pool drops its error handlers
  // before it has finished ending, and a connection closed by a stopping database would then
  // crash the process with an unhandled 'error' event.
  const pgPool = new pg.Pool({ connectionString: deps.databaseUrl, max: deps.config.worker.concurrency + 2 });
  const onPoolError = (error: Error) => logger.warn({ err: error.message }, 'job queue connection lost');
  pgPool.on('error', onPoolError);
  pgPool.on('connect', (client) => client.on('error', onPoolError));
  const runner = await run({
    pgPool,
    concurrency: deps.config.worker.concurrency,
    pollInterval: deps.config.worker.pollIntervalMs,
    taskList,
    // main.ts owns SIGTERM/SIGINT and stops us in order with the rest of the service.
    noHandleSignals: true,
    logger: graphileLogger(logger),
    // Jobs' abort signals fire this long after a stop begins, before the runner is killed at half
    // of SHUTDOWN_TIMEOUT (service.ts): a GOSAC call in flight gives up and is recorded as a
    // retryable failure instead of holding the shutdown for GOSAC's whole timeout.
    preset: { worker: { gracefulShutdownAbortTimeout: Math.floor(deps.config.shutdownTimeoutMs * 0.4) } },
  });

  let ended = false;
  runner.promise.then(
    () => {
      ended = true;
    },
    (error: unknown) => {
      ended = true;
      logger.error({ err: String(error) }, 'job runner stopped with an error');
    },
  );

  let sweeping: Promise<void> | undefined;
  const sweep = (graceMs: number) => {
    sweeping ??= sweepStrandedWork(deps.db, graceMs)
      .then((found) => {
        if (found.process + found.deliver > 0) logger.info(found, 'recovery sweep re-queued stranded work');
      })
      .catch((error: unknown) => logger.warn({ err: String(error) }, 'recovery sweep failed'))
      .finally(() => {
        sweeping = undefined;
      });
  };
  // Whatever a killed predecessor held is stranded now: take it all at once, not after a grace.
  sweep(0);
  const timer = setInterval(() => sweep(PERIODIC_GRACE_MS), SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    running: () => !ended,
    async stop(graceMs = Number.POSITIVE_INFINITY) {
      clearInterval(timer);
      await sweeping;
      await stopRunner(graceMs);
      await pgPool.end();
    },
  };

  async function stopRunner(graceMs: number): Promise<void> {
    const graceful = runner.stop();
    if (!Number.isFinite(graceMs)) return graceful;
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timeout = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([graceful.then(() => 'done' as const), late]).finally(() => clearTimeout(timeout));
    if (outcome === 'late') {
      logger.warn({ graceMs }, 'running jobs did not finish in time; releasing them to the queue');
      await runner.kill('shutdown timeout');
    }
  }
}

function graphileLogger(logger: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    switch (level) {
      case 'error':
        logger.error(fields, message);
        break;
      case 'warning':
        logger.warn(fields, message);
        break;
      case 'info':
        logger.debug(fields, message);
        break;
      default:
        logger.trace(fields, message);
    }
  });
}
