import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * What replicas share but may lose (DESIGN §5): change notifications and, later, rate-limit
 * counters and inspector fan-out. Redis when REDIS_URL is set; otherwise an in-process adapter
 * with the same interface, which is enough for a single process.
 */
export interface SharedState {
  readonly kind: 'redis' | 'in-process';
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createInProcessSharedState(): SharedState {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    kind: 'in-process',
    async publish(channel, message) {
      bus.emit(channel, message);
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
    },
    async ping() {
      return true;
    },
    async close() {
      bus.removeAllListeners();
    },
  };
}

export function createRedisSharedState(url: string, logger: Logger): SharedState {
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  const handlers = new Map<string, Array<(message: string) => void>>();
  // Log a lost connection once, not once per command or per retry.
  let healthy = true;
  for (const connection of [publisher, subscriber]) {
    connection.on('error', (error: Error) => {
      if (healthy) logger.warn({ err: error.message }, 'redis unreachable; retrying in background');
      healthy = false;
    });
    connection.on('ready', () => {
      if (!healthy) logger.info('redis reachable again');
      healthy = true;
    });
  }
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message);
  });
  return {
    kind: 'redis',
    async publish(channel, message) {
      await publisher.publish(channel, message);
    },
    async subscribe(channel, handler) {
      const list = handlers.get(channel) ?? [];
      list.push(handler);
      handlers.set(channel, list);
      if (list.length === 1) await subscriber.subscribe(channel);
    },
    async ping() {
      try {
        return (await publisher.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
