import koaCors from '@koa/cors';
import type { Context, Middleware, Next } from 'koa';

const allowedMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const allowedHeaders = ['Authorization', 'Content-Type', 'X-Request-Id'];
// Headers a browser front end may read: X-Total-Count pages the conversation list; the others
// follow a request and tell a throttled client when to come back.
export const exposedHeaders = ['X-Total-Count', 'X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

/**
 * CORS for the admin front end (`@koa/cors`): only the configured origins (none when the list is
 * empty; "*" in the list allows any, each answered with its own origin). The API uses bearer
 * tokens, not cookies, so credentials are never allowed. A preflight from another origin is
 * refused with 403 so the browser stops there.
 */
export function cors(origins: readonly string[]): Middleware {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  const permitted = (origin: string) => origin !== '' && (anyOrigin || allowed.has(origin));
  const handler = koaCors({
    origin: (ctx: Context) => (permitted(ctx.get('Origin')) ? ctx.get('Origin') : ''),
    allowMethods: allowedMethods,
    allowHeaders: allowedHeaders,
    exposeHeaders: exposedHeaders,
    maxAge: 600,
    credentials: false,
    keepHeadersOnError: true,
  }) as Middleware;
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('Origin');
    const preflight = ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
    if (origin !== '' && preflight && !permitted(origin)) {
      ctx.vary('Origin');
      ctx.status = 403;
      ctx.body = { errors: ['origin not allowed'] };
      return;
    }
    return handler(ctx, next);
  };
}
