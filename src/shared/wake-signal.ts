/**
 * Lets a loop sleep until it is poked or a deadline passes. A poke that comes while the loop is
 * busy is remembered, so work committed during a batch is not left for the idle poll.
 */
export interface WakeSignal {
  poke(): void;
  /** Resolves on the next poke (or at once if one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void>;
  /** Forgets a poke that came meanwhile: the work it announced is about to be looked at anyway. */
  clear(): void;
  /** Whether a poke came since the last wait or clear (the next wait would return at once). */
  pending(): boolean;
}

export function createWakeSignal(): WakeSignal {
  let poked = false;
  let waiters: Array<() => void> = [];
  return {
    clear() {
      poked = false;
    },
    pending: () => poked,
    poke() {
      poked = true;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
    wait(ms) {
      if (poked) {
        poked = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, Math.max(0, ms));
        function done() {
          clearTimeout(timer);
          waiters = waiters.filter((waiter) => waiter !== done);
          poked = false;
          resolve();
        }
        waiters.push(done);
      });
    },
  };
}
