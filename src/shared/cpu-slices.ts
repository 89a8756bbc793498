import { setImmediate } from 'node:timers/promises';

// A loop of CPU-only work (stepping a batch, starting a batch of GOSAC calls) would keep waiting
// webhooks and replies out for as long as it runs: it gives way to them every few milliseconds.
const SLICE_MS = 3;

/** Call `next()` before each item: it resolves at once until the slice is used, then after a turn of the event loop. */
export function cpuSlices(sliceMs = SLICE_MS): { next(): Promise<void> | undefined } {
  let sliceStarted = performance.now();
  return {
    next() {
      if (performance.now() - sliceStarted < sliceMs) return undefined;
      return setImmediate().then(() => {
        sliceStarted = performance.now();
      });
    },
  };
}
