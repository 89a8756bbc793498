import Router from '@koa/router';
import { z } from 'zod';
import type { CoreDeps } from '../../app-deps.js';
import type { RouteDoc } from '../openapi/route-doc.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface ReadinessDeps extends CoreDeps {
  readonly workerRunning: () => boolean;
}

/** Resolves within `ms` whatever happens: a stuck pool or Redis must not hang the probe. */
function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.catch(() => false), timeout]).finally(() => clearTimeout(timer));
}

/**
 * GET /ready: whether this process can do its job now (database; Redis when configured; the job
 * runner when it has the worker role). Liveness stays with GET /health: a load balancer takes an
 * unready process out of rotation instead of restarting it.
 */
export function createReadinessRoutes(deps: ReadinessDeps): Router {
  const router = new Router();
  router.get('/ready', async (ctx) => {
    const checks: Record<string, Promise<boolean>> = {
      database: within(
        Promise.resolve(deps.db.raw('select 1').timeout(CHECK_TIMEOUT_MS, { cancel: true })).then(() => true),
        CHECK_TIMEOUT_MS,
      ),
    };
    if (deps.sharedState.kind === 'redis') checks['redis'] = within(deps.sharedState.ping(), CHECK_TIMEOUT_MS);
    if (deps.config.role !== 'web') checks['worker'] = Promise.resolve(deps.workerRunning());
    const results = Object.fromEntries(
      await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, (await check) ? 'ok' : 'failing'] as const)),
    );
    const failing = Object.keys(results).filter((name) => results[name] !== 'ok');
    ctx.status = failing.length === 0 ? 200 : 503;
    ctx.body =
      failing.length === 0
        ? { status: 'ready', checks: results }
        : { status: 'not ready', checks: results, errors: failing.map((name) => `${name}: not reachable`) };
  });
  return router;
}

const checkSchema = z.enum(['ok', 'failing']);
const checksSchema = z.object({ database: checkSchema, redis: checkSchema.optional(), worker: checkSchema.optional() });

export const readinessRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/ready',
    tag: 'health',
    auth: false,
    summary:
      'Readiness: 200 when the database, Redis (when REDIS_URL is set) and the job runner (worker role) answer; 503 naming the failing checks otherwise, and while shutting down.',
    response: { status: 200, schema: z.object({ status: z.literal('ready'), checks: checksSchema }) },
    errors: [503],
  },
];
