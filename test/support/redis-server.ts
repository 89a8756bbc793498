// A throw-away redis-server child on a port of the test's choosing, so a test can stop Redis and
// start it again on the same address. The suites that use it fail (never skip) when redis-server
// is not on PATH; .ci/run installs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './service-process.js';

export interface RedisChild {
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: Redis vanishes the way a crashed host does. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis hangs with its connections open, the way an overloaded host does. */
  freeze(): void;
  thaw(): void;
}

export const redisServerMissing =
  'redis-server is not on PATH: install it (apt-get install -y redis-server; .ci/run does) — these tests do not skip';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function redisChild(port: number): RedisChild {
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  return {
    url,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      let failure: Error | undefined;
      child.once('error', (error) => {
        failure = new Error(`${redisServerMissing} (${error.message})`);
      });
      child.once('exit', (code, signal) => {
        failure ??= new Error(`redis-server on ${port} exited at once (${signal ?? `code ${code}`})`);
      });
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await probe.connect().then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (failure) {
          probe.disconnect();
          throw failure;
        }
        if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      probe.disconnect();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Redis for a test: the run's REDIS_URL when it has one, else a redis-server of the test's own
 * (never skipped: .ci/run installs it). `child` is there only in the second case.
 */
export async function redisForTest(): Promise<{ url: string; child?: RedisChild }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };
  if (!redisServerAvailable()) throw new Error(redisServerMissing);
  const child = redisChild(await freePort());
  await child.start();
  return { url: child.url, child };
}
