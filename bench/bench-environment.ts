// What a benchmark needs around the service: a fresh migrated database (DATABASE_URL's server, or
// one embedded server for the whole run), a GOSAC sink on 127.0.0.1, the service as separate
// processes (test/support/service-process.ts, shared with the multi-process tests), and an RSS
// sampler reading /proc/<pid>/status while the load runs.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../test/support/test-database.js';
import { PROCESS_ADMIN_TOKEN, startServiceProcess, type ServiceProcess } from '../test/support/service-process.js';

export { startServiceProcess, type ServiceProcess };
export const BENCH_ADMIN_TOKEN = PROCESS_ADMIN_TOKEN;

/** One database per benchmark, cloned from a migrated template (test/support/test-database.ts). */
export function createBenchDatabase(): Promise<TestDatabase> {
  return createTestDatabase();
}

/**
 * A GOSAC stand-in on 127.0.0.1 that answers 200 after `latencyMs` (0: at once) and tells waiters
 * when a ticket got a message. A message counts as delivered when the sink *answers* (arrival +
 * latency), as a contact would see it once GOSAC took it, so a slow GOSAC shows in the latency.
 * `record: false` only counts (intake runs: nobody waits, so nothing is kept).
 */
export interface SinkMessage {
  readonly body: string;
  readonly at: number;
  readonly arrivedAt: number;
}

export interface GosacSink {
  readonly url: string;
  received: number;
  /** `at`: when the sink answered (performance.now()); `arrivedAt`: when the request had arrived. */
  nextMessageFor(ticketId: number): Promise<SinkMessage>;
  close(): Promise<void>;
}

export interface GosacSinkOptions {
  readonly latencyMs?: number;
  readonly record?: boolean;
}

export async function startGosacSink(options: GosacSinkOptions = {}): Promise<GosacSink> {
  const latencyMs = options.latencyMs ?? 0;
  const record = options.record ?? true;
  const waiters = new Map<number, Array<(message: SinkMessage) => void>>();
  const early = new Map<number, SinkMessage[]>();
  const sink = {
    url: '',
    received: 0,
    nextMessageFor(ticketId: number) {
      const queued = early.get(ticketId)?.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise<SinkMessage>((resolve) => {
        waiters.set(ticketId, [...(waiters.get(ticketId) ?? []), resolve]);
      });
    },
    close: async () => {},
  };
  const delivered = (ticketId: number, body: string, arrivedAt: number) => {
    sink.received += 1;
    if (!record) return;
    const message = { body, at: performance.now(), arrivedAt };
    const waiter = waiters.get(ticketId)?.shift();
    if (waiter) waiter(message);
    else early.set(ticketId, [...(early.get(ticketId) ?? []), message]);
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const arrivedAt = performance.now();
      const ticketId = Number(request.url?.split('/').pop());
      const body = record ? (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}').body as string) : '';
      const answer = () => {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        delivered(ticketId, body, arrivedAt);
      };
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return sink;
}

/** Samples the RSS of each process every `intervalMs` until stopped; keeps the maximum per label. */
export function sampleRss(processes: Record<string, ServiceProcess>, intervalMs = 100) {
  const max: Record<string, number> = {};
  const sample = () => {
    for (const [label, service] of Object.entries(processes)) {
      const rss = service.rssBytes();
      if (rss !== undefined) max[label] = Math.max(max[label] ?? 0, rss);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

/**
 * CPU time (user + system, ms) the processes used so far, from /proc/<pid>/stat (clock ticks of
 * 10 ms); undefined when a process is gone or /proc is not there. Steadier than a rate on a shared
 * machine: what other work takes from the cores does not count.
 */
export function cpuMsOf(processes: Record<string, ServiceProcess>): number | undefined {
  let total = 0;
  for (const service of Object.values(processes)) {
    try {
      const stat = readFileSync(`/proc/${service.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at state: utime is the 12th, stime the 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  }
  return total;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function webhookBody(contactId: number, body: string, id: string) {
  return {
    type: 'messages:created',
    data: {
      id,
      body,
      mediaType: 'text',
      fromMe: false,
      fromGroup: false,
      ticketId: contactId,
      contactId,
      contact: { name: 'Bench', number: `55${contactId}` },
      ticket: { id: contactId, status: 'pending', userId: null },
    },
  };
}

/** POSTs to the admin API of a bench service; throws on anything but 2xx. */
export async function adminPost(url: string, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id: number };
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

/**
 * POSTs JSON over a kept-alive node:http agent and resolves with the status. Lighter than fetch:
 * the load generator shares the two cores with the service, so its own cost per request matters.
 */
export interface JsonPoster {
  post(path: string, payload: string): Promise<number>;
  close(): void;
}

/**
 * Kept-alive connections the server closed just as a request went out on them, sent again (Node's
 * documented race, `request.reusedSocket`; node's agent retires an idle socket a second before the
 * server's announced keep-alive timeout, which a loaded machine's event loops can overrun). The
 * webhook is idempotent by message id, and GOSAC resends a webhook that failed, so this is what a
 * real client does. Counted, so a run can say how often it happened.
 */
export const resentOnReset = { count: 0 };

export function createJsonPoster(baseUrl: string, maxSockets = 512): JsonPoster {
  const agent = new HttpAgent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  const post = (path: string, payload: string, resent = false): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const call = httpRequest(
        {
          agent,
          host: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      call.on('error', (error: NodeJS.ErrnoException) => {
        if (!resent && call.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resentOnReset.count += 1;
          resolve(post(path, payload, true));
        } else {
          reject(error);
        }
      });
      call.end(payload);
    });
  return { post: (path, payload) => post(path, payload), close: () => agent.destroy() };
}
