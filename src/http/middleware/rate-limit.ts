import type { Redis } from 'ioredis';
import type { Context, Middleware, Next } from 'koa';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { requestLogger } from './request-context.js';

export interface RateLimitRule {
  /** Requests whose path starts with this prefix (`/api`, `/webhook`) share the rule's budget. */
  readonly prefix: string;
  /** Per client address per window; 0 turns the rule off. */
  readonly limit: number;
}

const WINDOW_SECONDS = 60;

function limiterFor(rule: RateLimitRule, redis: Redis | undefined): RateLimiterAbstract {
  const keyPrefix = `ratelimit${rule.prefix.replaceAll('/', ':')}`;
  const options = { keyPrefix, points: rule.limit, duration: WINDOW_SECONDS };
  if (!redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({
    ...options,
    storeClient: redis,
    // No request waits for Redis: while it is away, each process counts on its own.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
}

/**
 * `rate-limiter-flexible`: one-minute windows per client address and rule, counted in Redis when
 * REDIS_URL is set (every replica spends one budget; counted in this process while Redis is
 * away) and in memory otherwise. It runs before authentication, so guessing tokens is throttled
 * too. When the limiter fails for any other reason the request goes through: an outage of
 * disposable state must not take the API down.
 */
export function rateLimit(deps: {
  readonly rules: readonly RateLimitRule[];
  readonly redis?: Redis | undefined;
  readonly logger: Logger;
}): Middleware {
  const limiters = deps.rules.filter((rule) => rule.limit > 0).map((rule) => ({ rule, limiter: limiterFor(rule, deps.redis) }));
  const headers = (ctx: Context, rule: RateLimitRule, result: RateLimiterRes) => {
    const resetSeconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    ctx.set({
      'RateLimit-Limit': String(rule.limit),
      'RateLimit-Remaining': String(Math.max(0, result.remainingPoints)),
      'RateLimit-Reset': String(resetSeconds),
    });
    return resetSeconds;
  };
  return async (ctx: Context, next: Next) => {
    const path = ctx.path;
    // Preflights carry no credentials and are answered by the CORS middleware before this one.
    const found = limiters.find(({ rule }) => path === rule.prefix || path.startsWith(`${rule.prefix}/`));
    if (!found) return next();
    let result: RateLimiterRes;
    try {
      result = await found.limiter.consume(ctx.ip);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        requestLogger(ctx, deps.logger).warn({ err: String(rejection) }, 'rate limiter unavailable; request allowed');
        return next();
      }
      const resetSeconds = headers(ctx, found.rule, rejection);
      ctx.set('Retry-After', String(resetSeconds));
      throw new TooManyRequestsError(`too many requests: at most ${found.rule.limit} per minute; retry in ${resetSeconds} s`);
    }
    headers(ctx, found.rule, result);
    await next();
  };
}
