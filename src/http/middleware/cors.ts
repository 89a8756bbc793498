import type { Context, Middleware, Next } from 'koa';

const allowedMethods = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const allowedHeaders = 'Authorization, Content-Type, X-Request-Id';

/**
 * CORS for the admin front end: only the configured origins (none when the list is empty; "*"
 * in the list allows any). The API uses bearer tokens, not cookies, so credentials are never
 * allowed. A preflight from another origin is refused with 403 so the browser stops there.
 */
export function cors(origins: readonly string[]): Middleware {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('Origin');
    if (!origin) return next();
    ctx.vary('Origin');
    const permitted = anyOrigin || allowed.has(origin);
    const preflight = ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
    if (preflight) {
      if (!permitted) {
        ctx.status = 403;
        ctx.body = { errors: ['origin not allowed'] };
        return;
      }
      ctx.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': allowedMethods,
        'Access-Control-Allow-Headers': allowedHeaders,
        'Access-Control-Max-Age': '600',
      });
      ctx.status = 204;
      return;
    }
    if (permitted) {
      ctx.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset',
      });
    }
    await next();
  };
}
