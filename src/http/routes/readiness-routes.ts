import Router from '@koa/router';
import { z } from 'zod';
import type { CoreDeps } from '../../app-deps.js';
import { countStuckInputs } from '../../conversations/inbox-queries.js';
import {
  createDefaultFlowHealth,
  describeDefaultFlowProblem,
  type DefaultFlowHealth,
} from '../../flows/default-flow-health.js';
import type { RouteDoc } from '../openapi/route-doc.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface ReadinessDeps extends CoreDeps {
  readonly workerRunning: () => boolean;
  /** Whether the default flow compiles (cached briefly: load balancers poll this route). */
  readonly defaultFlowHealth?: DefaultFlowHealth;
}

/** Resolves within `ms` whatever happens: a stuck pool or Redis must not hang the probe. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

/** A check's outcome: null when it passes, else the line `errors` shows for it. */
type Outcome = string | null;
const NOT_REACHABLE = 'not reachable';

/**
 * GET /ready: whether this process can do its job now (database; Redis when configured; the job
 * runner when it has the worker role; an active default flow that compiles). Liveness stays with GET /health: a load balancer takes an
 * unready process out of rotation instead of restarting it.
 */
export function createReadinessRoutes(deps: ReadinessDeps): Router {
  const defaultFlow = deps.defaultFlowHealth ?? createDefaultFlowHealth(deps);
  const reachable = (check: Promise<boolean>): Promise<Outcome> =>
    within(check, CHECK_TIMEOUT_MS, false).then((ok) => (ok ? null : NOT_REACHABLE));
  const router = new Router();
  router.get('/ready', async (ctx) => {
    const checks: Record<string, Promise<Outcome>> = {
      database: reachable(
        Promise.resolve(deps.db.raw('select 1').timeout(CHECK_TIMEOUT_MS, { cancel: true })).then(() => true),
      ),
    };
    if (deps.sharedState.kind === 'redis') checks['redis'] = reachable(deps.sharedState.ping());
    if (deps.config.role !== 'web') checks['worker'] = Promise.resolve(deps.workerRunning() ? null : NOT_REACHABLE);
    // Without a default flow that compiles, new contacts' messages stay in the inbox unanswered.
    // Shown, but not a reason to leave the load balancer's rotation: the admin API that fixes the
    // flow and the webhook that keeps the messages must stay reachable.
    const flowProblem = within(defaultFlow.current().then(describeDefaultFlowProblem), CHECK_TIMEOUT_MS, 'could not be checked');
    // Information, not a check: inputs a failing step keeps in the inbox (GET /api/inbox lists them).
    const stuckInputs = within<number | null>(countStuckInputs(deps.db), CHECK_TIMEOUT_MS, null);
    const outcomes = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await check] as const));
    const results = Object.fromEntries(outcomes.map(([name, outcome]) => [name, outcome === null ? 'ok' : 'failing']));
    const errors = outcomes.flatMap(([name, outcome]) => (outcome === null ? [] : [`${name}: ${outcome}`]));
    const problem = await flowProblem;
    results['default_flow'] = problem === null ? 'ok' : 'failing';
    const warnings = problem === null ? [] : [`default_flow: ${problem}`];
    ctx.status = errors.length === 0 ? 200 : 503;
    ctx.body = {
      status: errors.length > 0 ? 'not ready' : warnings.length > 0 ? 'degraded' : 'ready',
      checks: results,
      ...(errors.length > 0 ? { errors } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      stuck_inputs: await stuckInputs,
    };
  });
  return router;
}

const checkSchema = z.enum(['ok', 'failing']);
const checksSchema = z.object({
  database: checkSchema,
  redis: checkSchema.optional(),
  worker: checkSchema.optional(),
  default_flow: checkSchema.describe('the active default flow exists and compiles'),
});

export const readinessRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/ready',
    tag: 'health',
    auth: false,
    summary:
      "Readiness: 200 when the database, Redis (when REDIS_URL is set) and the worker's loops (worker role) answer; 503 otherwise, and while shutting down, with `errors` naming each failing check. Without an active default flow that compiles (checked at most every 2 s) the answer stays 200 but says `degraded`, with `warnings` naming why (e.g. 'default_flow: no active default flow', 'default_flow: default flow 3 cannot compile: ...'): the webhook and the admin API that fixes the flow must stay in rotation. `stuck_inputs` counts inbound messages a failing step keeps unanswered (GET /api/inbox lists them).",
    response: {
      status: 200,
      schema: z.object({
        status: z.enum(['ready', 'degraded']).describe('degraded: ready, but `warnings` says why contacts may go unanswered'),
        checks: checksSchema,
        warnings: z.array(z.string()).optional(),
        stuck_inputs: z.int().nullable().describe('inputs stuck in the inbox; null when the count could not be read'),
      }),
    },
    errors: [503],
  },
];
