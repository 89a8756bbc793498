import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from '../../shared/logger.js';

const REQUEST_ID_HEADER = 'X-Request-Id';
// A caller's id is reused so one request can be followed across services, but only when it is
// short and plain: it goes into every log line and back out in a header.
const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestState {
  requestId?: string;
  /** Made on first use: a pino child costs more than the rest of a webhook's logging. */
  logger?: () => Logger;
}

/** The per-request child logger (falls back to the given logger outside the middleware). */
export function requestLogger(ctx: Context, fallback: Logger): Logger {
  return (ctx.state as RequestState).logger?.() ?? fallback;
}

export function requestIdOf(ctx: Context): string | undefined {
  return (ctx.state as RequestState).requestId;
}

/**
 * Gives every request an id (X-Request-Id in and out) and a child logger carrying it, and logs
 * one line per request when it ends. Only the path is logged: query strings may hold tokens.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const requestId = acceptableRequestId.test(incoming) ? incoming : randomUUID();
    let child: Logger | undefined;
    const childLogger = () => (child ??= logger.child({ requestId }));
    const state = ctx.state as RequestState;
    state.requestId = requestId;
    state.logger = childLogger;
    ctx.set(REQUEST_ID_HEADER, requestId);
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { method: ctx.method, path: ctx.path, status: ctx.status, durationMs: Math.round(durationMs * 10) / 10 };
      if (ctx.status >= 500) childLogger().warn(line, 'request failed');
      else if (logger.isLevelEnabled('info')) childLogger().info(line, 'request');
    }
  };
}
