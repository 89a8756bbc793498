// Webhook intake: many concurrent clients posting distinct messages (distinct contacts and ids)
// to POST /webhook of a ROLE=web process, so the figure is intake alone (validate, settings,
// group commit: one statement stores the rows and queues the process_contact jobs of all the
// webhooks waiting for it). The worker role is off: queued jobs wait. The service logs at warn
// (as every bench process); BENCH_INTAKE_LOG_LEVEL=info measures the production default.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import {
  createBenchDatabase,
  percentile,
  sampleRss,
  startServiceProcess,
  webhookBody,
} from './bench-environment.js';

export interface IntakeBenchOptions {
  requests: number;
  concurrency: number;
  /** Hard stop, whatever is left. */
  maxSeconds: number;
  nodeArgs?: readonly string[];
  env?: Record<string, string>;
}

export interface IntakeBenchResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxRssBytes: number;
  queued: number;
  /** CPU time (user + system) of the service process per webhook in the measured loop. */
  serviceCpuMsPerWebhook: number;
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function runWebhookIntakeBench(options: IntakeBenchOptions): Promise<IntakeBenchResult> {
  const database = await createBenchDatabase();
  const web = await startServiceProcess(
    {
      DATABASE_URL: database.url,
      ROLE: 'web',
      DEBOUNCE_TIME: '2000',
      ...(process.env.BENCH_INTAKE_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_INTAKE_LOG_LEVEL } : {}),
      ...options.env,
    },
    { nodeArgs: options.nodeArgs ?? [] },
  );
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(`${web.url}/webhook`);
  const post = (payload: string) =>
    new Promise<number>((resolve, reject) => {
      const call = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      call.on('error', reject);
      call.end(payload);
    });

  try {
    // Warm-up: JIT, pools and prepared plans, not measured.
    let sequence = 0;
    const one = async () => {
      sequence += 1;
      const contactId = 100_000 + (sequence % 5_000);
      const status = await post(JSON.stringify(webhookBody(contactId, `mensagem ${sequence}`, `I${sequence}`)));
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    };
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      for (let i = 0; i < 20; i += 1) await one();
    }));

    const rss = sampleRss({ web });
    const latencies: number[] = [];
    const deadline = performance.now() + options.maxSeconds * 1000;
    let remaining = options.requests;
    const started = performance.now();
    const cpuBefore = cpuMs(web.pid);
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (remaining > 0 && performance.now() < deadline) {
          remaining -= 1;
          const sentAt = performance.now();
          await one();
          latencies.push(performance.now() - sentAt);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const serviceCpuMs = cpuMs(web.pid) - cpuBefore;
    const maxRss = rss.stop();
    const counted = await database.db('message_history').count({ n: '*' }).first();
    latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      seconds,
      requestsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxRssBytes: maxRss.web ?? 0,
      queued: Number(counted?.n ?? 0),
      serviceCpuMsPerWebhook: serviceCpuMs / latencies.length,
    };
  } finally {
    agent.destroy();
    await web.stop();
    await database.drop();
  }
}
