import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { BODY_LIMIT_BYTES } from './error-handler.js';

/**
 * JSON bodies only, at most 1 MB. A body sent without a content type is read as JSON too:
 * webhook senders are not always careful with headers. Parse failures and oversized bodies are
 * thrown to the error handler (400 / 413).
 */
export function jsonBody(): Middleware {
  return bodyParser({
    enableTypes: ['json'],
    jsonLimit: BODY_LIMIT_BYTES,
    detectJSON: (ctx) => ctx.get('Content-Type') === '',
  }) as Middleware;
}
