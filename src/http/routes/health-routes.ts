import Router from '@koa/router';
import { z } from 'zod';
import type { CoreDeps } from '../../app-deps.js';
import type { Database } from '../../db/knex.js';
import type { RouteDoc } from '../openapi/route-doc.js';

const DATABASE_TIMEOUT_MS = 2_000;

/** Resolves within `ms` whatever happens: a stuck pool must not hang the health check. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

async function databaseAnswers(db: Database): Promise<boolean> {
  const query = db.raw('select 1').timeout(DATABASE_TIMEOUT_MS, { cancel: true });
  return within(Promise.resolve(query).then(() => true), DATABASE_TIMEOUT_MS, false);
}

/** GET /health, without auth, for load balancers and uptime checks: 503 when the database is away. */
export function createHealthRoutes(deps: CoreDeps & { readonly workerRunning: () => boolean }): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    // Settings live in the database; without it, report the environment's values.
    const [databaseOk, settings] = await Promise.all([
      databaseAnswers(deps.db),
      within(deps.settings.current(), DATABASE_TIMEOUT_MS, deps.config.settingsDefaults),
    ]);
    ctx.status = databaseOk ? 200 : 503;
    ctx.body = {
      status: databaseOk ? 'ok' : 'degraded',
      bot_enabled: settings.BOT_ENABLED,
      bot_status: settings.BOT_STATUS,
      test_mode: settings.TEST_MODE,
      timestamp: new Date().toISOString(),
      database: databaseOk ? 'ok' : 'unreachable',
      worker_running: deps.workerRunning(),
    };
  });
  return router;
}

export const healthRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'health',
    auth: false,
    summary: 'Liveness and the bot switches; 503 when the database does not answer',
    response: {
      status: 200,
      schema: z.object({
        status: z.enum(['ok', 'degraded']),
        bot_enabled: z.boolean(),
        bot_status: z.enum(['active', 'paused', 'maintenance']),
        test_mode: z.boolean(),
        timestamp: z.string(),
        database: z.enum(['ok', 'unreachable']),
        worker_running: z.boolean(),
      }),
    },
    errors: [503],
  },
];
