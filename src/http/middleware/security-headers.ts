import type { Context, Middleware, Next } from 'koa';

// The API only ever answers JSON: nothing it returns should be rendered, framed or allowed to
// load anything, and admin data must not linger in shared caches.
const headers: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function securityHeaders(options: { production: boolean }): Middleware {
  return async (ctx: Context, next: Next) => {
    ctx.set(headers);
    if (options.production) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
