import helmet from 'koa-helmet';
import type { Context, Middleware, Next } from 'koa';

/**
 * Security headers through `koa-helmet` (helmet's defaults, tightened). The API only ever answers
 * JSON: nothing it returns should be rendered, framed or allowed to load anything, and admin data
 * must not linger in shared caches. HSTS only in production, where TLS is in front of it.
 */
export function securityHeaders(options: { production: boolean }): Middleware {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: options.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  return async (ctx: Context, next: Next) => {
    ctx.set('Cache-Control', 'no-store');
    await headers(ctx, next);
  };
}
