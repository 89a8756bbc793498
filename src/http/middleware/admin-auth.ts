import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { UnauthorizedError } from '../../shared/errors.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `Authorization: Bearer <ADMIN_API_TOKEN>`. Both sides are hashed first so the comparison takes
 * the same time whatever the length or content of the presented token. Without a configured
 * token nothing is accepted.
 */
export function requireAdminToken(token: string | undefined): Middleware {
  const expected = token ? digest(token) : undefined;
  return async (ctx: Context, next: Next) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('Authorization'));
    const presented = match?.[1];
    const valid = expected !== undefined && presented !== undefined && timingSafeEqual(digest(presented), expected);
    if (!valid) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('missing or invalid bearer token');
    }
    await next();
  };
}
