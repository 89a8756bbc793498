/**
 * Counters that vanish `ttlMs` after their first increment: the in-process twin of Redis
 * `SET key 0 PX ttl NX` + `INCR`. Expired entries are swept as the map grows, so a stream of
 * distinct keys (client addresses) cannot grow it without bound.
 */
export function createExpiringCounters(now: () => number = Date.now) {
  const counters = new Map<string, { count: number; expiresAt: number }>();
  let nextSweepAt = 0;

  function sweep(at: number): void {
    for (const [key, entry] of counters) if (entry.expiresAt <= at) counters.delete(key);
  }

  return {
    increment(key: string, ttlMs: number): number {
      const at = now();
      if (at >= nextSweepAt && counters.size > 1000) {
        sweep(at);
        nextSweepAt = at + 1_000;
      }
      const entry = counters.get(key);
      if (!entry || entry.expiresAt <= at) {
        counters.set(key, { count: 1, expiresAt: at + ttlMs });
        return 1;
      }
      entry.count += 1;
      return entry.count;
    },
    clear(): void {
      counters.clear();
    },
  };
}
