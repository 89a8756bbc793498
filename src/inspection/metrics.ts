// GET /metrics (SPEC §9): prom-client counters kept per process, in a registry of their own so
// several services in one process (tests) never share or double-register them.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/knex.js';
import type { Logger } from '../shared/logger.js';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly webhooks: Counter<'status'>;
  readonly steps: Counter;
  readonly stepDuration: Histogram;
  readonly deliveries: Counter<'result'>;
  readonly outboxPending: Gauge;
  readonly actions: Counter<'type' | 'result'>;
}

/** `db` answers the outbox gauge at scrape time (one count over the partial index of pending replies). */
export function createServiceMetrics(deps: { readonly db: Database; readonly logger: Logger }): ServiceMetrics {
  const registry = new Registry();
  const webhooks = new Counter({
    name: 'flowbot_webhooks_total',
    help: 'Webhook requests answered, by HTTP status',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const steps = new Counter({
    name: 'flowbot_steps_total',
    help: 'Inputs consumed by committed conversation steps (this process)',
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: 'flowbot_step_duration_seconds',
    help: 'From the webhook accepting an input to the step that consumed it committing (includes DEBOUNCE_TIME)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'flowbot_deliveries_total',
    help: 'GOSAC send attempts by outcome: sent, dry_run, retry, failed, given_up',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const outboxPending = new Gauge({
    name: 'flowbot_outbox_pending',
    help: 'Replies waiting to be sent (all replicas: counted in the database at scrape time)',
    registers: [registry],
    async collect() {
      try {
        const result = (await deps.db.raw("SELECT count(*)::int AS n FROM message_history WHERE status = 'pending'")) as {
          rows: Array<{ n: number }>;
        };
        this.set(result.rows[0]?.n ?? 0);
      } catch (error) {
        deps.logger.warn({ err: String(error) }, 'metrics: cannot count pending replies');
      }
    },
  });
  const actions = new Counter({
    name: 'flowbot_actions_total',
    help: 'Flow actions (Pontta, Google, http.post) by type and result',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  });
  return { registry, webhooks, steps, stepDuration, deliveries, outboxPending, actions };
}

/** Counts a committed write set's consumed inputs and their time from acceptance to commit. */
export function recordCommittedSteps(
  metrics: ServiceMetrics,
  processed: ReadonlyArray<{ readonly acceptedAt?: number | undefined }>,
  committedAt: number,
): void {
  if (processed.length === 0) return;
  metrics.steps.inc(processed.length);
  for (const input of processed) {
    if (input.acceptedAt !== undefined && Number.isFinite(input.acceptedAt)) {
      metrics.stepDuration.observe(Math.max(0, committedAt - input.acceptedAt) / 1000);
    }
  }
}
