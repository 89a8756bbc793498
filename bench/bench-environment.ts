// What a benchmark needs around the service: a fresh database (DATABASE_URL's server, or an
// embedded one in a temporary folder), a GOSAC sink on 127.0.0.1, and the service itself as a
// separate process, so the load generator does not share its event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface BenchDatabase {
  url: string;
  close(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) {
    const name = `flowbot_bench_${process.pid}`;
    const admin = new URL(process.env.DATABASE_URL);
    admin.pathname = '/postgres';
    const run = async (sql: string) => {
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(sql).finally(() => client.end());
    };
    await run(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return { url: url.toString(), close: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-bench-pg-'));
  await chmod(folder, 0o777);
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(folder, 'data'), databaseName: 'bench' });
  return {
    url: embedded.url,
    close: async () => {
      await embedded.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** A GOSAC stand-in that answers 200 at once and tells waiters when a ticket got a message. */
export interface GosacSink {
  readonly url: string;
  received: number;
  nextMessageFor(ticketId: number): Promise<{ body: string; at: number }>;
  close(): Promise<void>;
}

export async function startGosacSink(): Promise<GosacSink> {
  const waiters = new Map<number, Array<(message: { body: string; at: number }) => void>>();
  const early = new Map<number, Array<{ body: string; at: number }>>();
  const sink = {
    url: '',
    received: 0,
    nextMessageFor(ticketId: number) {
      const queued = early.get(ticketId)?.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise<{ body: string; at: number }>((resolve) => {
        waiters.set(ticketId, [...(waiters.get(ticketId) ?? []), resolve]);
      });
    },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      sink.received += 1;
      const ticketId = Number(request.url?.split('/').pop());
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}').body as string;
      const waiter = waiters.get(ticketId)?.shift();
      if (waiter) waiter({ body, at });
      else early.set(ticketId, [...(early.get(ticketId) ?? []), { body, at }]);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `src/main.ts` in its own process and waits until it listens (when it has the web role). */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_API_TOKEN: BENCH_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      DEMO_FLOW: 'false',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (env.ROLE !== 'worker') {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('service did not become healthy');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
