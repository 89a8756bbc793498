const stoppers: Array<() => Promise<void>> = [];

export function onSharedTeardown(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

export async function stopSharedTestResources(): Promise<void> {
  while (stoppers.length > 0) {
    const stop = stoppers.pop();
    if (stop) await stop();
  }
}
