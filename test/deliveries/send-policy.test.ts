// The send stage's rules for one answer from GOSAC, without a database or a server.
import { expect } from 'chai';
import {
  backoffMs,
  decideOutcome,
  MAX_DELIVERY_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  UNCERTAIN_FAILURE_REASON,
} from '../../src/deliveries/send-policy.js';

describe('send policy', () => {
  const half = () => 0.5;
  const fresh = { attempts: 1, uncertainAttempts: 0 };

  it('backs off exponentially with jitter, capped at five minutes', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffMs(attempt, half))).to.deep.equal([1_000, 2_000, 4_000, 8_000]);
    expect(backoffMs(20, half)).to.equal(300_000);
    expect(backoffMs(1, () => 0)).to.equal(800);
    expect(backoffMs(1, () => 1)).to.equal(1_200);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(parseRetryAfter('7', now)).to.equal(7_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
  });

  it('marks a delivered reply sent, or dry_run', () => {
    expect(decideOutcome({ ok: true, dryRun: false }, fresh)).to.deep.equal({ kind: 'sent', status: 'sent' });
    expect(decideOutcome({ ok: true, dryRun: true }, fresh)).to.deep.equal({ kind: 'sent', status: 'dry_run' });
  });

  it('retries a definite retryable failure with backoff, or after Retry-After capped at an hour', () => {
    expect(decideOutcome({ ok: false, retryable: true, error: '503' }, { attempts: 3, uncertainAttempts: 0 }, half)).to.deep.equal({
      kind: 'retry',
      delayMs: 4_000,
      error: '503',
      uncertain: false,
    });
    expect(decideOutcome({ ok: false, retryable: true, retryAfterMs: 30_000, error: '429' }, fresh, half)).to.include({ delayMs: 30_000 });
    expect(decideOutcome({ ok: false, retryable: true, retryAfterMs: 86_400_000, error: '429' }, fresh, half)).to.include({
      delayMs: MAX_RETRY_AFTER_MS,
    });
  });

  it(`fails a permanent refusal at once, and a retryable one at attempt ${MAX_DELIVERY_ATTEMPTS}`, () => {
    expect(decideOutcome({ ok: false, retryable: false, error: '400' }, fresh)).to.deep.equal({ kind: 'failed', error: '400', uncertain: false });
    expect(decideOutcome({ ok: false, retryable: true, error: '500' }, { attempts: MAX_DELIVERY_ATTEMPTS - 1, uncertainAttempts: 0 })).to.include({
      kind: 'retry',
    });
    expect(decideOutcome({ ok: false, retryable: true, error: '500' }, { attempts: MAX_DELIVERY_ATTEMPTS, uncertainAttempts: 0 })).to.include({
      kind: 'failed',
    });
  });

  it('repeats the first unknown outcome once, and fails the second rather than risk a third copy', () => {
    const timeout = { ok: false, retryable: true, uncertain: true, error: 'ETIMEDOUT' } as const;
    expect(decideOutcome(timeout, fresh, half)).to.deep.equal({ kind: 'retry', delayMs: 1_000, error: 'ETIMEDOUT', uncertain: true });
    const second = decideOutcome(timeout, { attempts: 2, uncertainAttempts: 1 }, half);
    expect(second).to.include({ kind: 'failed', uncertain: true });
    if (second.kind === 'failed') expect(second.error.startsWith(UNCERTAIN_FAILURE_REASON)).to.equal(true);
    // A definite failure after one unknown outcome is retried as usual.
    expect(decideOutcome({ ok: false, retryable: true, error: '503' }, { attempts: 2, uncertainAttempts: 1 }, half)).to.include({ kind: 'retry' });
  });
});
