import { within } from '../support/bounded.js';

const stoppers: Array<() => Promise<void>> = [];

export function onSharedTeardown(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

/** Runs every stopper, each bounded, even when one fails; then reports the failures. */
export async function stopSharedTestResources(): Promise<void> {
  const failures: unknown[] = [];
  while (stoppers.length > 0) {
    const stop = stoppers.pop();
    if (stop) await within(stop(), 30_000, 'stopping a shared test resource').catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} shared test resource(s) did not stop cleanly`);
}
