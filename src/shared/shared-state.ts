import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { createExpiringCounters } from './expiring-counters.js';
import type { Logger } from './logger.js';

/**
 * What replicas share but may lose (DESIGN §5): change notifications, rate-limit counters and
 * inspector fan-out. Redis when REDIS_URL is set; otherwise an in-process adapter
 * with the same interface, which is enough for a single process.
 */
export interface SharedState {
  readonly kind: 'redis' | 'in-process';
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  /** Removes a handler given to `subscribe`; the channel is left when its last handler goes. */
  unsubscribe(channel: string, handler: (message: string) => void): Promise<void>;
  /**
   * How many subscribers `channel` has across every replica (Redis `PUBSUB NUMSUB`: one per
   * subscribed replica; in process: the handlers). 0 when Redis cannot tell.
   */
  subscriberCount(channel: string): Promise<number>;
  ping(): Promise<boolean>;
  /**
   * Adds one to `key` and returns the new count; the key expires `ttlMs` after its first increment
   * (a fixed window). Shared by every replica with Redis; per process otherwise.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Adds one to a version counter that never expires (Redis `INCR`), so every replica can tell that
   * something changed. False when it could not (Redis away).
   */
  bumpVersion(key: string): Promise<boolean>;
  /**
   * The version counter's value (0 before its first bump); undefined when Redis cannot answer
   * within `timeoutMs`. In process it counts this process's bumps only.
   */
  readVersion(key: string, timeoutMs: number): Promise<number | undefined>;
  /**
   * The Redis command connection (when REDIS_URL is set), for libraries that keep their own state
   * in Redis (the rate limiter). It never queues commands while Redis is away.
   */
  readonly redisClient?: Redis;
  /** True while Redis (when used) is reachable: callers shorten their caches when it is not. */
  connected(): boolean;
  /** Called after Redis comes back from an outage: what was published meanwhile is lost. */
  onReconnect?(listener: () => void): void;
  close(): Promise<void>;
}

export function createInProcessSharedState(): SharedState {
  const counters = createExpiringCounters();
  const versions = new Map<string, number>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    kind: 'in-process',
    async increment(key, ttlMs) {
      return counters.increment(key, ttlMs);
    },
    async bumpVersion(key) {
      versions.set(key, (versions.get(key) ?? 0) + 1);
      return true;
    },
    async readVersion(key) {
      return versions.get(key) ?? 0;
    },
    async publish(channel, message) {
      bus.emit(channel, message);
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
    },
    async unsubscribe(channel, handler) {
      bus.off(channel, handler);
    },
    async subscriberCount(channel) {
      return bus.listenerCount(channel);
    },
    async ping() {
      return true;
    },
    connected: () => true,
    async close() {
      bus.removeAllListeners();
    },
  };
}

const COMMAND_TIMEOUT_MS = 1_000;

export function createRedisSharedState(url: string, logger: Logger): SharedState {
  const localCounters = createExpiringCounters();
  // No request may wait for Redis: commands fail at once while it is away (no offline queue) and
  // after COMMAND_TIMEOUT_MS when it hangs. The subscriber keeps its queue so a subscription made
  // while Redis is away is sent (and restored by ioredis) once it is back.
  const retryStrategy = (times: number) => Math.min(times * 200, 2_000);
  const publisher = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy,
  });
  const subscriber = new Redis(url, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy });
  const handlers = new Map<string, Array<(message: string) => void>>();
  const reconnectListeners: Array<() => void> = [];
  // Log an outage once when it starts and once when it ends, not once per command or retry.
  const down = new Set<Redis>();
  let outage = false;
  let everReady = false;
  let closing = false;
  const update = () => {
    if (closing) return;
    if (down.size > 0 && !outage && everReady) {
      outage = true;
      logger.warn('redis unreachable; shared state falls back to this process and retries in background');
    } else if (down.size === 0 && outage) {
      outage = false;
      logger.info('redis reachable again');
      for (const listener of reconnectListeners) listener();
    }
  };
  for (const connection of [publisher, subscriber]) {
    down.add(connection);
    connection.on('error', (error: Error) => {
      down.add(connection);
      // Unreachable from the start: say so once too.
      if (!everReady && !outage && !closing) {
        outage = true;
        logger.warn({ err: error.message }, 'redis unreachable; shared state falls back to this process and retries in background');
      }
      update();
    });
    connection.on('close', () => {
      down.add(connection);
      update();
    });
    connection.on('ready', () => {
      down.delete(connection);
      if (down.size === 0) everReady = true;
      update();
    });
  }
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message);
  });
  return {
    kind: 'redis',
    redisClient: publisher,
    async increment(key, ttlMs) {
      // Counters are disposable: while Redis is away, count in this process rather than fail requests.
      if (publisher.status !== 'ready') return localCounters.increment(key, ttlMs);
      try {
        // One MULTI: the expiry is set with the key, so no crash can leave a counter that never expires.
        const results = await publisher.multi().set(key, '0', 'PX', ttlMs, 'NX').incr(key).exec();
        const counted = results?.[1]?.[1];
        if (typeof counted === 'number') return counted;
      } catch (error) {
        logger.debug({ err: String(error) }, 'redis increment failed; counting in this process');
      }
      return localCounters.increment(key, ttlMs);
    },
    async bumpVersion(key) {
      if (publisher.status !== 'ready') return false;
      try {
        await publisher.incr(key);
        return true;
      } catch (error) {
        logger.debug({ key, err: String(error) }, 'redis version bump failed');
        return false;
      }
    },
    async readVersion(key, timeoutMs) {
      if (publisher.status !== 'ready') return undefined;
      let timer: NodeJS.Timeout | undefined;
      const read = publisher.get(key).then(
        (text) => Number(text ?? 0),
        () => undefined,
      );
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, undefined);
      });
      try {
        return await Promise.race([read, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async publish(channel, message) {
      // Subscribers on other replicas fall back to short cache TTLs while Redis is away.
      if (publisher.status !== 'ready') return;
      await publisher.publish(channel, message);
    },
    async subscribe(channel, handler) {
      const list = handlers.get(channel) ?? [];
      list.push(handler);
      handlers.set(channel, list);
      if (list.length > 1) return;
      const subscribed = subscriber.subscribe(channel).catch((error: unknown) => {
        logger.debug({ channel, err: String(error) }, 'redis subscribe failed');
      });
      // Wait briefly so a healthy start is subscribed before it serves; never block a start on Redis.
      await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, COMMAND_TIMEOUT_MS).unref())]);
    },
    async unsubscribe(channel, handler) {
      const list = (handlers.get(channel) ?? []).filter((known) => known !== handler);
      if (list.length > 0) {
        handlers.set(channel, list);
        return;
      }
      if (!handlers.delete(channel)) return;
      const unsubscribed = subscriber.unsubscribe(channel).then(
        () => undefined,
        (error: unknown) => logger.debug({ channel, err: String(error) }, 'redis unsubscribe failed'),
      );
      // While Redis is away the command waits in the subscriber's queue and is sent once it is
      // back; nobody (a shutdown least of all) waits for that.
      await Promise.race([unsubscribed, new Promise((resolve) => setTimeout(resolve, COMMAND_TIMEOUT_MS).unref())]);
    },
    async subscriberCount(channel) {
      if (publisher.status !== 'ready') return 0;
      try {
        const answer = (await publisher.pubsub('NUMSUB', channel)) as Array<string | number>;
        return Number(answer[1] ?? 0);
      } catch {
        return 0;
      }
    },
    connected: () => publisher.status === 'ready',
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
    async ping() {
      try {
        return (await publisher.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      closing = true;
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
