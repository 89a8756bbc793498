import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { CoreDeps } from '../../app-deps.js';
import { maskNumber } from '../../inspection/inspection-frames.js';
import { parseFilter } from '../../inspection/inspection-hub.js';
import { flowVersionView, listConversations } from '../../inspection/inspection-queries.js';
import type { ServiceMetrics } from '../../inspection/metrics.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { requireAdminToken } from '../middleware/admin-auth.js';
import { parseIdParam } from '../validation.js';

export interface InspectionRouterDeps extends CoreDeps {
  readonly metrics: ServiceMetrics;
}

const pageFolder = new URL('../../inspection/page/', import.meta.url);
const require = createRequire(import.meta.url);

interface Asset {
  readonly file: string | URL;
  readonly type: string;
  /** Long-lived: the file only changes with the installed package. */
  readonly cacheable?: boolean;
}

// Everything the pages load comes from here: no CDN, no internet (SPEC §9).
const assets: Record<string, Asset> = {
  'inspect.js': { file: new URL('inspect.js', pageFolder), type: 'text/javascript; charset=utf-8' },
  'inspect.css': { file: new URL('inspect.css', pageFolder), type: 'text/css; charset=utf-8' },
  'stately.js': { file: new URL('stately.js', pageFolder), type: 'text/javascript; charset=utf-8' },
  'elk.bundled.js': { file: require.resolve('elkjs/lib/elk.bundled.js'), type: 'text/javascript; charset=utf-8', cacheable: true },
};

function pagePolicy(ctx: Context, extra: Record<string, string> = {}): string {
  const host = ctx.host;
  const directives: Record<string, string> = {
    'default-src': "'none'",
    'script-src': "'self'",
    'style-src': "'self'",
    'img-src': "'self' data:",
    'connect-src': `'self' ws://${host} wss://${host}`,
    'base-uri': "'none'",
    'form-action': "'none'",
    'frame-ancestors': "'none'",
    ...extra,
  };
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

const LIST_LIMIT = 200;

/**
 * SPEC §9 over plain HTTP: the /inspect page and its assets, the Stately bridge page, the JSON the
 * page reads (admin token), and GET /metrics (admin token). The WebSocket is src/inspection/inspection-hub.ts.
 */
export function createInspectionRouter(deps: InspectionRouterDeps): Router {
  const router = new Router();
  const admin = requireAdminToken(deps.config.adminApiToken);
  const cache = new Map<string, Buffer>();
  const load = async (asset: Asset) => {
    const key = String(asset.file);
    let body = cache.get(key);
    if (!body) {
      body = await readFile(asset.file);
      cache.set(key, body);
    }
    return body;
  };

  router.get('/metrics', admin, async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  router.get('/inspect', async (ctx) => {
    ctx.set('Content-Security-Policy', pagePolicy(ctx));
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = await load({ file: new URL('inspect.html', pageFolder), type: 'text/html' });
  });

  router.get('/inspect/stately', async (ctx) => {
    // The one page that needs the internet: it frames Stately's hosted inspector.
    ctx.set('Content-Security-Policy', pagePolicy(ctx, { 'frame-src': 'https://stately.ai' }));
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = await load({ file: new URL('stately.html', pageFolder), type: 'text/html' });
  });

  router.get('/inspect/assets/:name', async (ctx) => {
    const asset = Object.hasOwn(assets, ctx.params.name ?? '') ? assets[ctx.params.name ?? ''] : undefined;
    if (!asset) throw new NotFoundError('no such asset');
    if (asset.cacheable) ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = asset.type;
    ctx.body = await load(asset);
  });

  router.get('/inspect/api/conversations', admin, async (ctx) => {
    const parsed = parseFilter(new URLSearchParams(ctx.querystring));
    if (!parsed.ok) throw new ValidationError([parsed.error]);
    const rows = await listConversations(deps.db, parsed.filter, LIST_LIMIT);
    ctx.body = rows.map((row) => ({ ...row, contact_number: row.contact_number ? maskNumber(row.contact_number) : null }));
  });

  router.get('/inspect/api/flow-versions/:id', admin, async (ctx) => {
    const view = await flowVersionView(deps.db, parseIdParam(ctx.params.id));
    if (!view) throw new NotFoundError('flow version not found');
    ctx.body = view;
  });

  return router;
}
