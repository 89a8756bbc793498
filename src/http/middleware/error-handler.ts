import type { Context, Middleware, Next } from 'koa';
import { isDatabaseUnavailable } from '../../db/database-errors.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { requestLogger } from './request-context.js';

interface MappedError {
  status: number;
  errors: string[];
}

interface ErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  code?: unknown;
  message?: unknown;
}

// PostgreSQL codes that a service should have turned into a typed error; mapped here as a
// safety net so a slip answers 4xx with a plain message rather than 500 (and never the SQL).
const postgresCodes: Record<string, MappedError> = {
  '23505': { status: 409, errors: ['conflict with existing data'] },
  '23503': { status: 400, errors: ['refers to a row that does not exist'] },
  '22P02': { status: 400, errors: ['invalid value'] },
  '22003': { status: 400, errors: ['number out of range'] },
};

export const BODY_LIMIT_BYTES = 1024 * 1024;

function mapError(error: unknown): MappedError | undefined {
  if (error instanceof AppError) return { status: error.status, errors: error.errors };
  if (typeof error !== 'object' || error === null) return undefined;
  // 503 rather than 500: nothing was stored, and GOSAC (or the front end) should try again.
  if (isDatabaseUnavailable(error)) return { status: 503, errors: ['database unavailable; try again later'] };
  const e = error as ErrorLike;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  // Body parser failures (co-body / raw-body).
  if (e.type === 'entity.too.large' || status === 413) {
    return { status: 413, errors: [`body: too large (limit ${BODY_LIMIT_BYTES / 1024 / 1024} MB)`] };
  }
  if (error instanceof SyntaxError && status === 400) return { status: 400, errors: ['body: malformed JSON'] };
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return { status: 415, errors: ['body: unsupported encoding'] };
  }
  if (typeof e.code === 'string' && Object.hasOwn(postgresCodes, e.code)) return postgresCodes[e.code];
  // http-errors thrown on purpose (ctx.throw, router) carry a message meant for the client.
  if (status !== undefined && status >= 400 && status < 500 && e.expose === true && typeof e.message === 'string') {
    return { status, errors: [e.message] };
  }
  return undefined;
}

/**
 * One place that turns every failure into `{errors: [...]}` with the right status. Unknown
 * failures answer 500 'internal error' and are logged with their stack, which the client
 * never sees.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      const mapped = mapError(error);
      const log = requestLogger(ctx, logger);
      if (mapped) {
        if (mapped.status >= 500) log.error({ err: error }, 'request failed');
        else log.debug({ status: mapped.status, errors: mapped.errors }, 'request rejected');
        ctx.status = mapped.status;
        ctx.body = { errors: mapped.errors };
      } else {
        log.error({ err: error }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { errors: ['internal error'] };
      }
    }
  };
}

const fallbackMessages: Record<number, string> = {
  404: 'not found',
  405: 'method not allowed',
  501: 'not implemented',
};

/** Gives the router's bodiless 404 and 405 answers the same JSON shape as every other error. */
export function jsonFallbacks(): Middleware {
  return async (ctx: Context, next: Next) => {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    const status = ctx.status;
    const message = fallbackMessages[status];
    if (message === undefined) return;
    ctx.body = { errors: [message] };
    // Koa turns an implicit status into 200 when a body is set; keep the real one.
    ctx.status = status;
  };
}
