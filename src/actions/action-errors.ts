import { RequestError } from 'got';

/**
 * Why an action did not succeed. `retryable`: network errors, timeouts, 5xx, 429 and a 401 that
 * survived one re-authentication (SPEC §8); anything else is a failure at once. `reason` is short,
 * safe to show to the contact as {{action_error}} and to list: it never holds a credential.
 */
export class ActionError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, retryable: boolean, retryAfterMs?: number) {
    super(reason);
    this.name = 'ActionError';
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

const maxBodyInReason = 200;

/** SPEC §8: retried on 5xx, 429 (and 408); 401 is retried by the caller after re-authenticating. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408 || status === 401;
}

export function httpFailure(service: string, status: number, body: unknown, retryAfterMs?: number): ActionError {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  const detail = text ? `: ${text.replace(/\s+/g, ' ').slice(0, maxBodyInReason)}` : '';
  return new ActionError(`${service} answered ${status}${detail}`, isRetryableStatus(status), retryAfterMs);
}

/** Network errors and timeouts: the request may or may not have arrived; trying again is the way. */
export function networkFailure(service: string, error: unknown): ActionError {
  if (error instanceof ActionError) return error;
  const code = error instanceof RequestError ? error.code : ((error as { code?: unknown } | null)?.code as string | undefined);
  const message = error instanceof Error ? error.message : String(error);
  return new ActionError(`${service} unreachable (${code ?? message.slice(0, maxBodyInReason)})`, true);
}

export function notConfigured(service: string, variables: string): ActionError {
  return new ActionError(`${service} is not configured (${variables})`, false);
}
