import { Logger as GraphileLogger, run, type TaskList } from 'graphile-worker';
import type { CoreDeps } from '../app-deps.js';
import { createConversationRuntime } from '../conversations/conversation-runtime.js';
import { createFlowVersionStore } from '../flows/flow-versions.js';
import type { GosacClient } from '../integrations/gosac-client.js';
import type { Logger } from '../shared/logger.js';
import { DELIVER_CONTACT_TASK, PROCESS_CONTACT_TASK } from './job-queue.js';
import { sweepStrandedWork } from './recovery-sweep.js';
import { createDeliverContactTask } from './tasks/deliver-contact.js';
import { createProcessContactTask } from './tasks/process-contact.js';

export interface RunningWorker {
  stop(): Promise<void>;
}

export interface WorkerDeps extends CoreDeps {
  readonly gosac: GosacClient;
}

const SWEEP_INTERVAL_MS = 30_000;

/** Starts graphile-worker with our tasks, plus the recovery sweep (now and every 30 s). */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const logger = deps.logger.child({ component: 'worker' });
  const flowVersions = createFlowVersionStore(deps);
  const runtime = createConversationRuntime({ ...deps, flowVersions });
  const taskList: TaskList = {
    [PROCESS_CONTACT_TASK]: createProcessContactTask({ runtime, logger }),
    [DELIVER_CONTACT_TASK]: createDeliverContactTask({ db: deps.db, gosac: deps.gosac, logger }),
  };
  const runner = await run({
    connectionString: deps.databaseUrl,
    concurrency: deps.config.worker.concurrency,
    pollInterval: deps.config.worker.pollIntervalMs,
    taskList,
    // main.ts owns SIGTERM/SIGINT and stops us in order with the rest of the service.
    noHandleSignals: true,
    logger: graphileLogger(logger),
  });

  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= sweepStrandedWork(deps.db)
      .then((found) => {
        if (found.process + found.deliver > 0) logger.info(found, 'recovery sweep re-queued stranded work');
      })
      .catch((error: unknown) => logger.warn({ err: String(error) }, 'recovery sweep failed'))
      .finally(() => {
        sweeping = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
      await runner.stop();
    },
  };
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
