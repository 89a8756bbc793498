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
  const matches = adminTokenMatcher(token);
  return async (ctx: Context, next: Next) => {
    if (!matches(bearerTokenOf(ctx.get('Authorization')))) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('missing or invalid bearer token');
    }
    await next();
  };
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1];
}

/** Compares a presented token with the admin token in constant time; nothing matches an unset token. */
export function adminTokenMatcher(token: string | undefined): (presented: string | undefined) => boolean {
  const expected = token ? digest(token) : undefined;
  return (presented) => expected !== undefined && presented !== undefined && timingSafeEqual(digest(presented), expected);
}
