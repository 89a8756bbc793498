import type { IntakePriority } from './intake-priority.js';
import type { Logger } from './logger.js';
import { createWakeSignal } from './wake-signal.js';

export interface BatchLoopOptions {
  /** Names the loop in its log lines. */
  readonly name: string;
  /** Loops run at once in this process. */
  readonly concurrency: number;
  /** A batch this full means more is waiting: the loop goes again at once. */
  readonly batchSize: number;
  /** Longest sleep when nothing is due and nothing woke the loop. */
  readonly idlePollMs: number;
  runBatch(): Promise<{ readonly claimed: number }>;
  /** When the next piece of work not yet due becomes due, if any. */
  nextDue(): Promise<Date | undefined>;
  /** Subscribes to the NOTIFY that wakes the loop from other processes. */
  listen?(onNotify: () => void): Promise<void>;
  readonly now: () => number;
  readonly log: Logger;
  /** Webhooks first (ADR 0009): absent, batches run as soon as the loop is ready. */
  readonly priority?: IntakePriority;
}

export interface BatchLoop {
  start(): Promise<void>;
  /** Work was committed in this process: look now rather than at the next poll. */
  poke(): void;
  running(): boolean;
  /** Lets the batches in progress finish, then returns. */
  stop(): Promise<void>;
}

/**
 * The claim-and-run loop the step engine and the timer stage share: a batch, then at once another
 * when it came back full, else sleep until the next due time, a poke or the idle poll. A failing
 * batch is logged and tried again a second later.
 */
export function createBatchLoop(options: BatchLoopOptions): BatchLoop {
  const wake = createWakeSignal();
  let stopping = false;
  let loops: Array<Promise<void>> = [];

  async function loop(): Promise<void> {
    while (!stopping) {
      let report: { readonly claimed: number } | undefined;
      try {
        report = await (options.priority ? options.priority.run(options.runBatch) : options.runBatch());
      } catch (error) {
        options.log.error({ err: error instanceof Error ? error.message : String(error) }, `${options.name} batch failed; retrying`);
      }
      if (stopping) return;
      if (report && report.claimed >= options.batchSize) continue;
      if (report && wake.pending()) {
        // Poked during the batch: look again now, without asking when the next work is due.
        wake.clear();
        continue;
      }
      let sleepMs = report ? options.idlePollMs : 1_000;
      if (report) {
        const next = await options.nextDue().catch(() => undefined);
        if (next) sleepMs = Math.min(sleepMs, Math.max(0, next.getTime() - options.now()));
      }
      await wake.wait(sleepMs);
    }
  }

  return {
    async start() {
      await options.listen?.(() => wake.poke());
      loops = Array.from({ length: options.concurrency }, () => loop());
    },
    poke: () => wake.poke(),
    running: () => loops.length > 0 && !stopping,
    async stop() {
      stopping = true;
      for (let i = 0; i < options.concurrency; i += 1) wake.poke();
      await Promise.all(loops);
    },
  };
}
