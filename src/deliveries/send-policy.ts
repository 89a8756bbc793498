// What the send stage does with GOSAC's answer to one reply (docs/decisions/0002 and 0004): pure
// functions, no I/O, so the rules are tested without a database or a server.
import type { SendOutcome } from '../integrations/gosac-client.js';

/** A reply that failed this many calls (retryable ones included) is given up. */
export const MAX_DELIVERY_ATTEMPTS = 10;
/** The second call whose outcome we never learned fails the reply: at most one extra copy. */
export const MAX_UNCERTAIN_ATTEMPTS = 2;
export const UNCERTAIN_FAILURE_REASON = 'GOSAC may have received it: not resent to avoid a duplicate';

const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;
// Retry-After is honoured, but a server asking for a day must not park the contact's replies for a day.
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** 1 s, 2 s, 4 s … capped at 5 min, with ±20 % jitter so many contacts do not retry in step. */
export function backoffMs(failedAttempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text || text.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text.trim()) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The counters of a claimed row, as the claim left them (this call already counted). */
export interface ClaimedCounters {
  readonly attempts: number;
  readonly uncertainAttempts: number;
}

/** What to write for one call; `uncertain` adds one to `uncertain_attempts`. */
export type SendDecision =
  | { readonly kind: 'sent'; readonly status: 'sent' | 'dry_run' }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: string; readonly uncertain: boolean }
  | { readonly kind: 'failed'; readonly error: string; readonly uncertain: boolean };

/**
 * Delivered; or tried again later, first in its contact's line (a definite retryable refusal, or
 * the first unknown outcome); or failed for good: a permanent refusal, the 10th attempt, or a
 * second unknown outcome (GOSAC may have both copies already; a third is not risked).
 */
export function decideOutcome(outcome: SendOutcome, row: ClaimedCounters, random: () => number = Math.random): SendDecision {
  if (outcome.ok) return { kind: 'sent', status: outcome.dryRun ? 'dry_run' : 'sent' };
  const uncertain = outcome.uncertain === true;
  if (uncertain && row.uncertainAttempts + 1 >= MAX_UNCERTAIN_ATTEMPTS) {
    return { kind: 'failed', error: `${UNCERTAIN_FAILURE_REASON} (${outcome.error})`, uncertain };
  }
  if (!outcome.retryable || row.attempts >= MAX_DELIVERY_ATTEMPTS) {
    return { kind: 'failed', error: outcome.error, uncertain };
  }
  const delayMs =
    outcome.retryAfterMs !== undefined
      ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS)
      : backoffMs(row.attempts, random);
  return { kind: 'retry', delayMs, error: outcome.error, uncertain };
}
