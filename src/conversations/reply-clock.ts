import type { ReplyClock } from '../effects/effect-registry.js';

/**
 * Due times of one contact's replies within a batch (ADR 0001, 0004): the first reply of each
 * step waits at least MESSAGE_COOLDOWN after the previous reply, every reply waits its own delay
 * after the one before it. `lastDue` is the previous reply's time, if the contact has one.
 */
export function createReplyClock(now: number, cooldownMs: number, lastDue: number | undefined): ReplyClock & { beginStep(): void } {
  let previous = lastDue;
  let firstOfStep = true;
  return {
    beginStep() {
      firstOfStep = true;
    },
    nextDue(delayMs) {
      const due = firstOfStep
        ? Math.max(now + delayMs, previous === undefined ? -Infinity : previous + cooldownMs)
        : (previous ?? now) + delayMs;
      firstOfStep = false;
      previous = due;
      return new Date(due);
    },
  };
}
