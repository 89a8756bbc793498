import type { Context, Middleware, Next } from 'koa';
import { TooManyRequestsError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { SharedState } from '../../shared/shared-state.js';
import { requestLogger } from './request-context.js';

export interface RateLimitRule {
  /** Requests whose path starts with this prefix (`/api`, `/webhook`) share the rule's budget. */
  readonly prefix: string;
  /** Per client address per window; 0 turns the rule off. */
  readonly limit: number;
}

const WINDOW_MS = 60_000;

function ruleFor(rules: readonly RateLimitRule[], path: string): RateLimitRule | undefined {
  return rules.find((rule) => rule.limit > 0 && (path === rule.prefix || path.startsWith(`${rule.prefix}/`)));
}

/**
 * Fixed one-minute windows per client address and rule, counted in the shared state so every
 * replica spends one budget when Redis is configured. It runs before authentication, so guessing
 * tokens is throttled too. When the counter cannot be read the request goes through: an outage of
 * disposable state must not take the API down.
 */
export function rateLimit(deps: {
  readonly rules: readonly RateLimitRule[];
  readonly sharedState: SharedState;
  readonly logger: Logger;
  readonly now?: () => number;
}): Middleware {
  const now = deps.now ?? Date.now;
  return async (ctx: Context, next: Next) => {
    const rule = ruleFor(deps.rules, ctx.path);
    // Preflights carry no credentials and are answered by the CORS middleware before this one.
    if (!rule) return next();
    const at = now();
    const window = Math.floor(at / WINDOW_MS);
    const resetMs = (window + 1) * WINDOW_MS - at;
    let count: number;
    try {
      count = await deps.sharedState.increment(`ratelimit:${rule.prefix}:${ctx.ip}:${window}`, resetMs + 1_000);
    } catch (error) {
      requestLogger(ctx, deps.logger).warn({ err: String(error) }, 'rate limit counter unavailable; request allowed');
      return next();
    }
    const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    ctx.set({
      'RateLimit-Limit': String(rule.limit),
      'RateLimit-Remaining': String(Math.max(0, rule.limit - count)),
      'RateLimit-Reset': String(resetSeconds),
    });
    if (count > rule.limit) {
      ctx.set('Retry-After', String(resetSeconds));
      throw new TooManyRequestsError(`too many requests: at most ${rule.limit} per minute; retry in ${resetSeconds} s`);
    }
    await next();
  };
}
