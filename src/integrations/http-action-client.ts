import got from 'got';
import { httpFailure, networkFailure } from '../actions/action-errors.js';
import { parseRetryAfter } from '../deliveries/send-policy.js';

// SPEC §8 `http.post`: JSON to any URL a flow names; a 2xx answer's body (or one field of it,
// `result_path`, dotted) becomes the action's result.

export interface HttpActionClient {
  post(url: string, body: unknown, resultPath: string | undefined): Promise<string>;
}

export function pickResult(body: string, resultPath: string | undefined): string {
  if (!resultPath) return body;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return '';
  }
  for (const part of resultPath.split('.').filter(Boolean)) {
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createHttpActionClient(options: { timeoutMs: number }): HttpActionClient {
  return {
    async post(url, body, resultPath) {
      let response;
      try {
        response = await got.post(url, {
          json: body ?? {},
          throwHttpErrors: false,
          retry: { limit: 0 },
          timeout: { request: options.timeoutMs },
          followRedirect: false,
        });
      } catch (error) {
        throw networkFailure(`POST ${new URL(url).host}`, error);
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw httpFailure(`POST ${new URL(url).host}`, response.statusCode, response.body, parseRetryAfter(response.headers['retry-after']));
      }
      return pickResult(response.body, resultPath);
    },
  };
}
